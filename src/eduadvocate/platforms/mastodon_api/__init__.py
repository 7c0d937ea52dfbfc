"""Mastodon, and any server that speaks its API: limits and counting (``spec``) and the client
on Mastodon.py (``client``). Named ``mastodon_api``, not ``mastodon``, which is Mastodon.py's
own package.

May import: the platform interface, ``content``, ``config``, ``core``.
"""
