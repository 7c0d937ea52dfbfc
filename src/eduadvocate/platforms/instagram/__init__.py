"""Instagram (professional accounts through the Graph API): limits (``spec``), the client
(``client``) and the public address of each media file, which both use (``media``).

May import: the platform interface, ``platforms.graph_api``, ``content``, ``config``, ``core``.
"""
