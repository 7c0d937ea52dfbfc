"""Shell completion, through the protocol the installed scripts use (``--install-completion``):
the real entry point in a process, asked with ``_EDUADVOCATE_COMPLETE=complete_bash`` and the
words typed so far. Accounts come from the config, post ids from the posts files, states from
the ledger's; a campaign that cannot be read offers nothing and prints nothing."""

from __future__ import annotations

import sys

import pytest

from eduadvocate.ledger.base import State
from tests.conftest import Make
from tests.test_cli import run_installed
from tests.test_startup import HEAVY

CONFIG = """\
defaults: {timezone: Europe/Berlin, accounts: [outbox]}
accounts:
  outbox: {platform: outbox}
  x-coalition: {platform: x, consumer_key: '${K}', consumer_secret: '${K}', access_token: '${K}', access_token_secret: '${K}'}
  bluesky-pta: {platform: bluesky, handle: pta.bsky.social, app_password: '${K}'}
"""
POSTS = {
    "hearing.yaml": "posts:\n  - {id: hearing-7-days, at: 2026-12-03 18:00, text: One week to go}\n"
    "  - {id: hearing-live, at: 2026-12-10 18:00, text: We are live}\n",
    "petition.yaml": "posts:\n  - {id: petition-launch, at: 2026-12-01 09:00, text: Sign it}\n",
}


def complete(line: str, **env: str) -> list[str]:
    """What bash is offered for the last word of ``line`` (a trailing space: a new word).
    The process must succeed and print nothing on stderr, whatever the campaign holds."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    result = run_installed(
        env={
            "_EDUADVOCATE_COMPLETE": "complete_bash",
            "COMP_WORDS": line,
            "COMP_CWORD": str(cword),
            **env,
        }
    )
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line]  # none: one empty line


@pytest.mark.parametrize(
    "command",
    ["render --account", "render -a", "publish --account", "accounts verify -a", "metrics pull -a"],
)
def test_account_options_offer_the_configs_accounts(make_campaign: Make, command: str) -> None:
    make_campaign(POSTS, config=CONFIG)
    assert complete(f"eduadvocate {command} ") == ["outbox", "x-coalition", "bluesky-pta"]
    assert complete(f"eduadvocate {command} b") == ["bluesky-pta"]


def test_accounts_come_from_the_config_named_on_the_line(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config=CONFIG)
    (root / "other.yaml").write_text("accounts: {elsewhere: {platform: outbox}}\n")
    assert complete("eduadvocate publish --config other.yaml -a ") == ["elsewhere"]


@pytest.mark.parametrize("command", ["status --post", "cancel --post", "render -p", "status -p"])
def test_post_options_offer_the_campaigns_post_ids(make_campaign: Make, command: str) -> None:
    make_campaign(POSTS, config=CONFIG)
    assert complete(f"eduadvocate {command} ") == [
        "hearing-7-days",
        "hearing-live",
        "petition-launch",
    ]
    assert complete(f"eduadvocate {command} hearing-l") == ["hearing-live"]


def test_zsh_and_fish_are_shown_each_accounts_platform(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    result = run_installed(
        env={
            "_EDUADVOCATE_COMPLETE": "complete_zsh",
            "_TYPER_COMPLETE_ARGS": "eduadvocate publish -a x",
        }
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert '"x-coalition":"x"' in result.stdout


def test_states_are_the_ledgers(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    assert complete("eduadvocate status --state ") == [state.value for state in State]
    assert complete("eduadvocate status -s p") == ["pending", "published"]


@pytest.mark.parametrize(
    "config",
    [
        "accounts: [1\n",  # not YAML
        "accounts:\n  bird: {platform: twitter}\nbogus: 1\n",  # mistakes
        "accounts:\n  o: {platform: outbox, access: s3cret}\n",  # an unknown key
    ],
    ids=["invalid-yaml", "mistakes", "unknown-key"],
)
def test_a_config_that_cannot_be_read_offers_nothing_and_prints_nothing(
    make_campaign: Make, config: str
) -> None:
    make_campaign(POSTS, config=config)
    assert complete("eduadvocate publish -a ") == []
    assert complete("eduadvocate status --post ") == []


def test_a_missing_config_file_offers_nothing(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    assert complete("eduadvocate publish --config nowhere.yaml -a ") == []


def test_a_posts_file_that_cannot_be_read_leaves_the_others_ids(make_campaign: Make) -> None:
    make_campaign({**POSTS, "broken.yaml": "posts: [\n"}, config=CONFIG)
    assert complete("eduadvocate cancel --post ") == [
        "hearing-7-days",
        "hearing-live",
        "petition-launch",
    ]


def test_completion_reads_no_ledger_and_loads_no_sdk(make_campaign: Make) -> None:
    """A Tab press must be quick: the config and posts files only, as check reads them."""
    root = make_campaign(POSTS, config=CONFIG)
    probe = (
        "import os, sys\n"
        "os.environ.update(_EDUADVOCATE_COMPLETE='complete_bash',"
        " COMP_WORDS='eduadvocate status --post ', COMP_CWORD='3')\n"
        "sys.argv = ['eduadvocate']\n"
        "from eduadvocate.cli import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        f"heavy = {(*HEAVY, 'sqlite3', 'eduadvocate.ledger.sqlite')!r}\n"
        "print(sorted(m for m in sys.modules if m in heavy or m.split('.')[0] in heavy),"
        " file=sys.stderr)\n"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=root, check=False
    )
    assert result.stdout.split() == ["hearing-7-days", "hearing-live", "petition-launch"]
    assert result.stderr == "[]\n"
    assert not (root / ".eduadvocate").exists()


def _naming_options() -> list[tuple[str, str]]:
    """Every command's option that names an account or a post, found in the Click tree: a new
    command with --account or --post is swept in without being listed here."""
    import typer

    from eduadvocate.cli.main import app

    found = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))
        for param in getattr(command, "params", []):
            for opt in ("--account", "--post"):
                if opt in param.opts:
                    found.append((" ".join(path), opt))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize(("command", "option"), _naming_options())
def test_every_option_naming_an_account_or_a_post_completes(
    make_campaign: Make, command: str, option: str
) -> None:
    make_campaign(POSTS, config=CONFIG)
    offered = complete(f"eduadvocate {command} {option} ")
    expected = ["outbox", "x-coalition", "bluesky-pta"] if option == "--account" else None
    assert offered == (expected or ["hearing-7-days", "hearing-live", "petition-launch"])
