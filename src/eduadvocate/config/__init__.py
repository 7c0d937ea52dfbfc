"""The campaign's ``config.yaml``: finding and reading it (``load``), what it holds (``model``:
accounts with their secrets left in the environment, the ledger, lease and metrics timing), its
accounts (``accounts``), the defaults for posts it shares with posts files (``defaults``, with
link tagging in ``utm``), ``${VAR}`` references (``env``) and the YAML reading both use
(``reader``).

May import: ``core``. What the platforms declare reaches it as an argument
(``accounts.AccountRules``, given by the platform registry), never by import, so the platforms
can depend on the config and not the other way round.
"""
