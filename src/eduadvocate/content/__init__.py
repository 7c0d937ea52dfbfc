"""A campaign's content as written: posts files and the people directory read from YAML into
the model (``model``, ``load``, ``schema``), the checks on their text (``textsafety``) and what
their media files really are (``media``). The defaults a posts file shares with the config, and
their link tagging templates, are the config's (``config.defaults``, ``config.utm``).

May import: ``config``, ``core``.
"""
