"""Instagram (professional accounts through the Graph API): limits (``spec``) and the client
(``client``).

May import: the platform interface, ``platforms.graph_api``, ``content``, ``config``, ``core``.
"""
