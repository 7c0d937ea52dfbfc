"""Bluesky: its limits and facets (``spec``), its client on atproto (``client``) and link cards
fetched safely (``linkcard``).

May import: the platform interface (``platforms.base``, ``platforms.publishing``,
``platforms.safefetch``, ``platforms.textcount``), ``content``, ``config``, ``core``.
"""
