"""A campaign's content as written: posts files and the people directory read from YAML into
the model (``model``, ``load``, ``schema``), the templates in them, the checks on their text
(``textsafety``) and what their media files really are (``media``).

May import: ``config``, ``core``.
"""
