"""Facebook Pages: limits (``spec``) and the client on the Graph API (``client``). Named for what
it posts to, and not ``facebook``, which is facebook-sdk's own package.

May import: the platform interface, ``platforms.graph_api``, ``content``, ``config``, ``core``.
"""
