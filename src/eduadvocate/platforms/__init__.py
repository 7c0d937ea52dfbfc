"""The platforms: the interface every adapter implements (``base``: limits, counting and
rendering rules; ``publishing``: the publisher and its errors), the registry that finds
adapters (built-in and from other packages), shared transport pieces (``http``,
``safefetch``, ``graph_api``, ``textcount``), and one folder per platform.

May import: ``content``, ``config``, ``core``. Inside, from the top: ``registry``, the platform
folders, ``graph_api``, ``http`` and ``safefetch``, ``base``, ``publishing``, ``textcount``. A
platform's folder imports only the interface and the shared pieces, never another platform's
folder nor the registry.
"""
