"""``eduadvocate init``: a new campaign folder that passes ``check`` as it is.

Writes ``config.yaml`` (one outbox account, so nothing needs an account yet), ``people.yaml``,
``posts/welcome.yaml`` (sample posts for the outbox alone, dated a week ahead) with the editor
line that points at the JSON Schema, the schema itself
under ``.eduadvocate/``, and a ``.gitignore`` for what runs leave behind (the ledger's side files,
the outbox, session files, ``.env``). A folder that already holds a campaign is left untouched;
nothing is ever overwritten, and no symbolic link is followed.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import warnings
from datetime import datetime, timedelta
from pathlib import Path

from eduadvocate.core.errors import UsageError
from eduadvocate.timing.timespec import TimeSpecError, load_zone

SCHEMA_PATH = ".eduadvocate/posts.schema.json"
# Any of these in the folder: it is a campaign already, and init changes nothing in it.
CAMPAIGN_FILES = ("config.yaml", "people.yaml", "posts")
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW

GITIGNORE = """\
# What eduadvocate runs leave in the campaign folder that must not be committed.
# The ledger: only on purpose (the GitHub Actions example checkpoints it, then runs
# `git add --force`); its -wal and -shm files and its lock never.
/.eduadvocate/ledger.sqlite3
/.eduadvocate/ledger.sqlite3-wal
/.eduadvocate/ledger.sqlite3-shm
/.eduadvocate/ledger.sqlite3.lock
# Bluesky session files hold tokens; the outbox is what would have been sent.
/.eduadvocate/sessions/
/outbox/
# Secrets for a local run.
.env
"""

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

# The sample posts cannot go public by accident: each names the outbox itself (adding a real
# account to the defaults does not send them there), is dated after init (nothing is due at
# once), and says SAMPLE in its id, its text and the comment above.
WELCOME = """\
# yaml-language-server: $schema=../{schema}
# SAMPLE posts written by `eduadvocate init`. They go only to the outbox account (files in
# ./outbox, nothing public), even after you add a real account. Replace them with your own
# posts, or delete them.
posts:
  - id: sample-welcome
    at: {at}
    accounts: [outbox]    # a sample goes nowhere public
    text: >-
      SAMPLE: We are asking {{@chair}} and the school board to fully fund our schools.
      Add your name: {{petition}}
    vars:
      petition: https://example.org/petition

  - id: sample-weekly-reminder
    every: weekly on Monday 09:00
    from: {start}
    accounts: [outbox]
    text: >-
      SAMPLE: Have you signed yet? Every name counts before the budget vote. {{petition}}
    vars:
      petition: https://example.org/petition
"""
# How far after init the sample is dated: in the future, and within calendar's default 14 days.
SAMPLE_AHEAD = timedelta(days=7)


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


class ScaffoldWarning(UserWarning):
    """Something init left alone on purpose (a campaign, a link, a .gitignore it added to)."""


def scaffold(folder: Path, timezone: str | None, now: datetime) -> tuple[list[str], list[str]]:
    """Create the campaign files; returns (created, kept) paths. ``now``: when init runs (the
    sample posts are dated a week later).

    A folder that already holds a campaign is left untouched. No file is overwritten and no
    symbolic link followed (a file or folder that is one is left as it is, with a warning): each
    path is walked one folder at a time, each file created exclusively, all without following
    links. An existing ``.gitignore`` only gets the lines it lacks, at its end.
    """
    from eduadvocate.content.schema import json_schema
    from eduadvocate.platforms.registry import platform_names

    zone = timezone or local_zone_name()
    try:
        sample_day = (now.astimezone(load_zone(zone)) + SAMPLE_AHEAD).date()
    except TimeSpecError as exc:
        raise UsageError(
            str(exc), hint="pass --timezone, e.g. --timezone America/Chicago"
        ) from None
    shown_folder = os.path.relpath(folder)
    if folder.is_symlink() and not folder.exists():
        raise UsageError(
            f"{shown_folder} is a symbolic link to a missing folder: init does not follow it",
            hint="remove the link, or create the folder it points to",
        )
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{shown_folder} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    present = [name for name in CAMPAIGN_FILES if os.path.lexists(folder / name)]
    if present:
        for name in present:
            if (folder / name).is_symlink():
                warnings.warn(
                    f"{os.path.relpath(folder / name)} is a symbolic link: init does not follow it",
                    ScaffoldWarning,
                    stacklevel=2,
                )
        warnings.warn(
            f"{shown_folder} already holds a campaign ({', '.join(present)}): init left it untouched",
            ScaffoldWarning,
            stacklevel=2,
        )
        return [], [os.path.relpath(folder / name) for name in present]
    campaign = folder.resolve().name.replace("-", " ").replace("_", " ").title() or "Our Campaign"
    files = {
        "config.yaml": CONFIG.format(campaign=json.dumps(campaign), timezone=zone),
        "people.yaml": PEOPLE,
        "posts/welcome.yaml": WELCOME.format(
            schema=SCHEMA_PATH, at=f"{sample_day} 10:00", start=sample_day
        ),
        SCHEMA_PATH: json.dumps(json_schema(sorted(platform_names())), indent=2) + "\n",
        ".gitignore": GITIGNORE,
    }
    created, kept = [], []
    top = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for rel, text in files.items():
            shown = os.path.relpath(folder / rel)
            outcome = _create(top, rel, text)
            if outcome == "created":
                created.append(shown)
                continue
            kept.append(shown)
            if outcome.startswith("link:"):
                link = os.path.relpath(folder / outcome.removeprefix("link:"))
                also = f", and did not write {shown}" if link != shown else ""
                warnings.warn(
                    f"{link} is a symbolic link: init does not follow it{also}",
                    ScaffoldWarning,
                    stacklevel=2,
                )
            elif rel == ".gitignore" and (added := _complete_gitignore(top)):
                warnings.warn(
                    f".gitignore was already there: added {', '.join(added)} at its end",
                    ScaffoldWarning,
                    stacklevel=2,
                )
    finally:
        os.close(top)
    return created, kept


def _create(top: int, rel: str, text: str) -> str:
    """Write ``rel`` (below the folder open as ``top``) unless something is there: "created",
    "exists", or "link:<path>" when a link (or a file where a folder should be) is in the way."""
    *folders, name = rel.split("/")
    fd = os.dup(top)
    try:
        for depth, part in enumerate(folders):
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, dir_fd=fd)
            try:
                inner = os.open(part, _FOLDER, dir_fd=fd)
            except OSError:  # ELOOP: a link; ENOTDIR: a file
                return "link:" + "/".join(folders[: depth + 1])
            os.close(fd)
            fd = inner
        try:
            out = os.open(name, _NEW_FILE, 0o666, dir_fd=fd)
        except FileExistsError:  # O_EXCL: also when ``name`` is a link, dangling or not
            is_link = stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
            return f"link:{rel}" if is_link else "exists"
        with os.fdopen(out, "w", encoding="utf-8") as handle:
            handle.write(text)
        return "created"
    finally:
        os.close(fd)


def _complete_gitignore(top: int) -> list[str]:
    """Append the lines of :data:`GITIGNORE` an existing ``.gitignore`` lacks; returns them."""
    fd = os.open(".gitignore", os.O_RDWR | os.O_NOFOLLOW, dir_fd=top)
    with os.fdopen(fd, "r+", encoding="utf-8", newline="") as handle:
        existing = handle.read()
        have = {line.strip() for line in existing.splitlines()}
        missing = [
            line for line in GITIGNORE.splitlines() if line and line[0] != "#" and line not in have
        ]
        if missing:
            lead = "" if not existing or existing.endswith("\n") else "\n"
            handle.write(lead + "\n# Added by `eduadvocate init`:\n" + "\n".join(missing) + "\n")
    return missing
