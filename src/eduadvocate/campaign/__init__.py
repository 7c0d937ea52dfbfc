"""A campaign folder as a whole: opening one (config, posts, people, the clock) and creating a
new one (``init``).

May import: ``platforms`` (the registry), ``timing``, ``content``, ``config``, ``core``.
"""
