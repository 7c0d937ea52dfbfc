"""Composing posts for platforms: rendering each post under each platform's rules (templates,
hashtags, mentions, link tracking, threads) and checking the result before anything is due.

May import: ``platforms`` (their rules, not their clients), ``timing``, ``content``,
``config``, ``core``.
"""
