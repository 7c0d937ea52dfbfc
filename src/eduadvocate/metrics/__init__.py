"""Engagement: pulling counts back from the platforms into the ledger and reporting what worked
(terminal, CSV and HTML).

May import: ``compose``, ``campaign``, ``platforms``, ``ledger``, ``timing``, ``content``,
``config``, ``core``.
"""
