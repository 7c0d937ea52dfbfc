"""Time in a campaign: reading ``at``/``every``/``from``/``until`` (``timespec``) and listing
when each post goes out (``occurrences``).

May import: ``content``, ``config``, ``core``.
"""
