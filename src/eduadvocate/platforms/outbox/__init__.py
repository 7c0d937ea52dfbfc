"""The local outbox: posts written as files in a folder (``writer``), for trying a campaign
without accounts.

May import: the platform interface, ``content``, ``config``, ``core``.
"""
