"""``eduadvocate init``: a new campaign folder that passes ``check`` as it is.

Writes ``config.yaml`` (one outbox account, so nothing needs an account yet), ``people.yaml``,
``posts/welcome.yaml`` with the editor line that points at the JSON Schema, and the schema itself
under ``.eduadvocate/``. Existing files are never overwritten.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eduadvocate.errors import UsageError
from eduadvocate.timespec import TimeSpecError, load_zone

SCHEMA_PATH = ".eduadvocate/posts.schema.json"

CONFIG = """\
# eduadvocate config: where the posts are and which accounts publish them.
# Secrets are never written here: write ${{VAR}} and set VAR in the environment.
# See config.example.yaml in the eduadvocate repository for every platform.
posts: posts
people: people.yaml

defaults:
  campaign: {campaign}
  timezone: {timezone}
  accounts: [outbox]
  hashtags: [FundOurSchools]

accounts:
  outbox:
    platform: outbox      # writes what would be sent into ./outbox: no account needed
    folder: outbox
  # x-main:
  #   platform: x
  #   consumer_key: ${{X_CONSUMER_KEY}}
  #   consumer_secret: ${{X_CONSUMER_SECRET}}
  #   access_token: ${{X_ACCESS_TOKEN}}
  #   access_token_secret: ${{X_ACCESS_TOKEN_SECRET}}
"""

PEOPLE = """\
# People you mention as {@key}. A handle per platform; where one is missing the name is written.
chair:
  name: Board Chair Alex Rivera
  x: ChairRivera
  bluesky: rivera.bsky.social
  mastodon: rivera@mastodon.education
"""

WELCOME = """\
# yaml-language-server: $schema=../{schema}
posts:
  - id: welcome
    at: now
    text: >-
      We are asking {{@chair}} and the school board to fully fund our schools.
      Add your name: {{petition}}
    vars:
      petition: https://example.org/petition

  - id: weekly-reminder
    every: weekly on Monday 09:00
    text: Have you signed yet? Every name counts before the budget vote. {{petition}}
    vars:
      petition: https://example.org/petition
"""


def local_zone_name() -> str:
    """This computer's IANA zone: $TZ, else /etc/localtime's link target, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz:
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else "UTC"


def scaffold(folder: Path, timezone: str | None) -> tuple[list[str], list[str]]:
    """Create the campaign files; returns (created, kept) paths."""
    from eduadvocate.content.schema import json_schema
    from eduadvocate.platforms.registry import platform_names

    zone = timezone or local_zone_name()
    try:
        load_zone(zone)
    except TimeSpecError as exc:
        raise UsageError(
            str(exc), hint="pass --timezone, e.g. --timezone America/Chicago"
        ) from None
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    campaign = folder.resolve().name.replace("-", " ").replace("_", " ").title() or "Our Campaign"
    files = {
        "config.yaml": CONFIG.format(campaign=json.dumps(campaign), timezone=zone),
        "people.yaml": PEOPLE,
        "posts/welcome.yaml": WELCOME.format(schema=SCHEMA_PATH),
        SCHEMA_PATH: json.dumps(json_schema(sorted(platform_names())), indent=2) + "\n",
    }
    created, kept = [], []
    for rel, text in files.items():
        path = folder / rel
        shown = os.path.relpath(path)
        if path.exists():
            kept.append(shown)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(shown)
    return created, kept
