"""X (Twitter): its limits and weighted counting (``spec``) and its client on tweepy (``client``).

May import: the platform interface (``platforms.base``, ``platforms.publishing``,
``platforms.http``, ``platforms.textcount``), ``content``, ``config``, ``core``.
"""
