"""The campaign's ``config.yaml``: accounts and their settings (secrets from the environment),
the ledger, defaults for posts, metrics and lease settings.

May import: ``core``. Platform rules reach it as an argument (``load.AccountRules``), never by
import, so the platforms can depend on the config and not the other way round.
"""
