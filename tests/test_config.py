"""The config: durations (``grace``, ``lease``), account names, where ``${VAR}`` may be used."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import load_config
from eduadvocate.config.model import DEFAULT_GRACE, DEFAULT_LEASE
from eduadvocate.core.errors import ConfigError
from eduadvocate.platforms.registry import BUILTINS
from tests.conftest import REPO, Make
from tests.test_cli import run

ACCOUNTS = "accounts: {o: {platform: outbox}}\n"
DURATION = "a number with d, h, m or s: 90s, 2m, 3h, 7d, 1h30m"


def _load(tmp_path: Path, text: str) -> tuple[timedelta, timedelta]:
    path = tmp_path / "config.yaml"
    path.write_text(text + ACCOUNTS)
    config = load_config(str(path))
    return config.grace, config.lease


def test_defaults(tmp_path: Path) -> None:
    assert _load(tmp_path, "") == (DEFAULT_GRACE, DEFAULT_LEASE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("2m", timedelta(minutes=2)),
        ("1h 30m", timedelta(minutes=90)),
    ],
)
def test_lease_takes_hours_minutes_and_seconds(
    tmp_path: Path, text: str, expected: timedelta
) -> None:
    assert _load(tmp_path, f"lease: {text}\ngrace: 90m\n") == (timedelta(minutes=90), expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "lease: 2s",
            "config.yaml:1: lease must be at least 3s, not 2s. the default, 60s, suits most setups",
        ),
        (
            "lease: soon",
            'config.yaml:1: lease must be a duration like "60s" or "2m", not "soon". ' + DURATION,
        ),
        (
            "grace: 3 days",
            'config.yaml:1: grace must be a duration like "3h" or "90m", not "3 days". ' + DURATION,
        ),
    ],
)
def test_bad_durations_name_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text + "\n")
    assert caught.value.one_line() == message


# -- account names ----------------------------------------------------------------------------------
ALLOWED = (
    'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters'
)


@pytest.mark.parametrize(
    "name",
    [
        "../../outside",
        "a/b",
        ".hidden",
        "-dash-first",
        "two words",
        "tab\there",
        "école",
        "x" * 65,
        "",
    ],
)
def test_an_unsafe_account_name_is_refused_in_one_line_naming_the_line(
    make_campaign: Make, name: str
) -> None:
    """Account names become file names (Bluesky sessions, the outbox) and ledger keys: only a
    safe character set is taken, before anything reads or writes a file."""
    root = make_campaign(
        "posts: []\n",
        config=f"defaults: {{timezone: UTC}}\naccounts:\n  ok: {{platform: outbox}}\n  {json.dumps(name)}: {{platform: outbox}}\n",
    )
    result = run("check")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr == (
        f"eduadvocate: error: config.yaml:4: the account name {json.dumps(name, ensure_ascii=False)} may only use"
        f" {ALLOWED}. rename the account here and in the posts that name it\n"
    )
    assert not (root / ".eduadvocate").exists()


@pytest.mark.parametrize("name", ["x-main", "pta.bsky", "Union_2026", "9to5", "a" * 64])
def test_safe_account_names_are_taken(tmp_path: Path, name: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"accounts:\n  {name}: {{platform: outbox}}\n")
    assert list(load_config(str(path)).accounts) == [name]


# -- where ${VAR} is read from the environment ------------------------------------------------------
SECRET = "SECRET-env-value-4f1c"
X_ALLOWED = (
    "consumer_key, consumer_secret, access_token, access_token_secret, oauth2_token, base_url"
)


@pytest.mark.parametrize(
    ("account", "line", "where"),
    [
        (
            "  x-main: {platform: x, username: '${LEAKED}'}\n",
            3,
            f'account "x-main": ${{LEAKED}} in username is not read from the environment: only'
            f" ledger and, on x accounts, {X_ALLOWED} may use ${{VAR}}",
        ),
        (
            "  o:\n    platform: outbox\n    folder: out-${LEAKED:-x}\n",
            5,
            'account "o": ${LEAKED} in folder is not read from the environment: only ledger may'
            " use ${VAR} (outbox accounts have no secrets)",
        ),
        (
            "  ig: {platform: instagram, ig_user_id: '1', media_base_url: 'https://m.example/${LEAKED}/'}\n",
            3,
            'account "ig": ${LEAKED} in media_base_url is not read from the environment: only'
            " ledger and, on instagram accounts, access_token, base_url may use ${VAR}",
        ),
        (
            "  m: {platform: mastodon, instance: https://m.example, limit: '${LEAKED}'}\n",
            3,
            'account "m": ${LEAKED} in limit is not read from the environment: only ledger and,'
            " on mastodon accounts, access_token, instance may use ${VAR}",
        ),
    ],
)
def test_var_in_a_display_setting_of_an_account_is_a_config_error(
    make_campaign: Make, account: str, line: int, where: str
) -> None:
    """A setting that ends up in links, file names or public text cannot pull in a secret."""
    make_campaign("posts: []\n", config=f"defaults: {{timezone: UTC}}\naccounts:\n{account}")
    result = run("check", env={"LEAKED": SECRET})
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr == (
        f"eduadvocate: error: config.yaml:{line}: {where}. write the value itself, or see"
        ' "The config" in the README\n'
    )
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "line", "setting"),
    [
        ("defaults:\n  campaign: 'Fund ${LEAKED}'\n", 2, "defaults.campaign"),
        ("defaults:\n  vars: {signup: 'https://e.org/?k=${LEAKED}'}\n", 2, "defaults.vars.signup"),
        ("defaults:\n  hashtags: [a, '${LEAKED}']\n", 2, "defaults.hashtags"),
        ("posts: '${LEAKED}'\n", 1, "posts"),
        ("media_root: ${LEAKED}\n", 1, "media_root"),
        ("check: {severity: {time-past: '${LEAKED}'}}\n", 1, "check.severity.time-past"),
        ("metrics: {pull_after: ['${LEAKED}']}\n", 1, "metrics.pull_after"),
    ],
)
def test_var_anywhere_else_in_the_config_is_a_config_error(
    make_campaign: Make, text: str, line: int, setting: str
) -> None:
    make_campaign("posts: []\n", config=text + "accounts: {o: {platform: outbox}}\n")
    result = run("check", env={"LEAKED": SECRET})
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.startswith(
        f"eduadvocate: error: config.yaml:{line}: ${{LEAKED}} in {setting} is not read from the"
        " environment: only ledger and the accounts' secret and address settings may use ${VAR}."
    )
    assert SECRET not in result.stdout + result.stderr


def test_secret_and_address_settings_and_the_ledger_read_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "ledger: ${LEDGER_FILE:-ledger.sqlite3}\naccounts:\n"
        "  x-main: {platform: x, consumer_key: '${K}', consumer_secret: '${K}', access_token:"
        " '${K}', access_token_secret: '${K}', base_url: '${X_PROXY}'}\n"
        "  m: {platform: mastodon, instance: '${MASTODON_INSTANCE}', access_token: '${K}'}\n"
        "  b: {platform: bluesky, handle: pta.bsky.social, app_password: '${K}', service: '${PDS}'}\n"
        "  f: {platform: facebook, page_id: '1', access_token: '${K}', base_url: '${GRAPH}'}\n"
        "  i: {platform: instagram, ig_user_id: '2', access_token: '${K}', base_url: '${GRAPH}',"
        " media_base_url: https://m.example/}\n"
    )
    monkeypatch.setenv("K", SECRET)
    monkeypatch.setenv("MASTODON_INSTANCE", "https://social.example")
    config = load_config(str(path))
    assert config.accounts["m"].get("instance") == "https://social.example"
    assert config.accounts["x-main"].secret("consumer_key") == SECRET
    assert SECRET not in repr(config)


def test_env_settings_are_the_secrets_and_the_addresses_each_adapter_connects_to() -> None:
    from eduadvocate.platforms.registry import env_settings

    assert {name: sorted(env_settings(name)) for name in sorted(BUILTINS)} == {
        "bluesky": ["app_password", "service", "video_service"],
        "facebook": ["access_token", "base_url"],
        "instagram": ["access_token", "base_url"],
        "mastodon": ["access_token", "instance"],
        "outbox": [],
        "x": sorted([*X_ALLOWED.split(", ")]),
    }


POSTS = """\
vars: {X_CONSUMER_SECRET: plain}
posts:
  - id: a
    at: now
    accounts: [outbox]
    text: "Key ${X_CONSUMER_SECRET} and {@lopez}, ${HOME}"
"""


def test_posts_files_and_people_never_read_the_environment(make_campaign: Make) -> None:
    """`${VAR}` in a posts file is a `$` and a `{variable}`; in people.yaml plain text."""
    root = make_campaign(
        POSTS,
        config="defaults: {timezone: UTC}\naccounts:\n  outbox: {platform: outbox}\n",
        people="lopez: {name: 'Chair ${X_CONSUMER_SECRET}'}\n",
    )
    env = {"X_CONSUMER_SECRET": SECRET, "HOME": SECRET}
    checked = run("check", env=env)
    assert checked.returncode == 4  # {HOME} is no variable of the campaign
    assert "unknown-variable" in checked.stdout and "{HOME} is not a variable" in checked.stdout
    assert SECRET not in checked.stdout + checked.stderr
    (root / "posts" / "posts.yaml").write_text(POSTS.replace(", ${HOME}", ""))
    rendered = run("render", "--format", "json", env=env)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    (delivery,) = json.loads(rendered.stdout)["deliveries"]
    assert delivery["parts"][0]["text"] == "Key $plain and Chair ${X_CONSUMER_SECRET}"
    published = run("publish", env={**env, "EDUADVOCATE_NOW": ""})
    assert published.returncode == 0, published.stdout + published.stderr
    written = "".join(p.read_text() for p in (root / "outbox").rglob("*.json"))
    assert "Key $plain and Chair ${X_CONSUMER_SECRET}" in written
    for text in (rendered.stdout, published.stdout, published.stderr, written):
        assert SECRET not in text


def test_the_readme_lists_exactly_where_var_is_read() -> None:
    from eduadvocate.platforms.registry import env_settings

    readme = (REPO / "README.md").read_text()
    section = readme.split("## The config", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `platform: (\w+)` \| (.*) \|$", section, re.MULTILINE))
    assert set(rows) == set(BUILTINS)
    for name, cell in rows.items():
        assert re.findall(r"`(\w+)`", cell) == list(env_settings(name)), name
    assert "| top level | `ledger` |" in section


# -- every config mistake in one pass ---------------------------------------------------------------
def test_check_reports_every_config_mistake_and_the_posts_problems_in_one_pass_sorted(
    make_campaign: Make,
) -> None:
    """An unknown key, an unknown platform, an unknown time zone and an undefined account in
    defaults: check lists all four with the posts' own problems, by file and line (the text
    table, JSON and GitHub annotations alike), and exits 3 with the first on stderr."""
    make_campaign(
        "posts:\n  - id: a\n    at: 2026-12-01 09:00\n    text: hello\n    colour: red\n",
        config=(
            "accounts:\n"
            "  main: {platform: outbox}\n"
            "  bird:\n"
            "    platform: twitter\n"
            "bogus: 1\n"
            "defaults:\n"
            "  timezone: Mars/Olympus\n"
            "  accounts: [main, ghost, bird]\n"
        ),
    )
    expected = [
        ("config.yaml", 4, "config-invalid"),  # twitter
        ("config.yaml", 5, "unknown-key"),  # bogus
        ("config.yaml", 7, "bad-timezone"),
        ("config.yaml", 8, "unknown-account"),  # ghost (bird is said at its own line)
        ("posts/posts.yaml", 3, "time-no-zone"),
        ("posts/posts.yaml", 5, "unknown-key"),  # colour
    ]
    result = run("check", "--format", "json")
    assert result.returncode == 3, result.stdout + result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert [(p["file"], p["line"], p["code"]) for p in problems] == expected
    assert all(p["hint"] for p in problems[:2])  # the config's own: each says what to do
    assert result.stderr == (
        'eduadvocate: error: config.yaml:4: account "bird": unknown platform "twitter". did you'
        ' mean "x"? (and 1 more problem in the config: `eduadvocate check` lists them all)\n'
    )
    github = run("check", "--format", "github")
    assert github.returncode == 3
    annotations = [line for line in github.stdout.splitlines() if line.startswith("::error")]
    assert [re.search(r"line=(\d+)", a)[1] for a in annotations] == [  # type: ignore[index]
        str(line) for _, line, _ in expected
    ]
    text = run("check", env={"COLUMNS": "200"})
    assert text.returncode == 3
    rows = [line.split()[0] for line in text.stdout.splitlines() if re.match(r"\S+:\d+ ", line)]
    assert rows == [f"{file}:{line}" for file, line, _ in expected]
    assert "Traceback" not in text.stderr


def test_publish_and_render_stop_on_a_config_with_several_mistakes_in_one_line(
    make_campaign: Make,
) -> None:
    make_campaign(
        "posts: []\n", config="accounts: {o: {platform: outbox}}\ngrace: soon\nlease: 1s\n"
    )
    for command in ("publish", "render", "calendar"):
        result = run(command)
        assert result.returncode == 3, (command, result.stdout + result.stderr)
        assert result.stderr == (
            'eduadvocate: error: config.yaml:2: grace must be a duration like "3h" or "90m", not'
            f' "soon". {DURATION} (and 1 more problem in the config: `eduadvocate check` lists'
            " them all)\n"
        )


# Config mistakes that do not depend on each other, each one problem at its own line: a line
# under the top level, or under accounts: or defaults: (one valid account and defaults always).
MISTAKES = {
    "unknown top-level key": ("top", "bogus: 1"),
    "bad grace": ("top", "grace: soon"),
    "short lease": ("top", "lease: 1s"),
    "bad severity": ("top", "check: {severity: {alt-missing: maybe}}"),
    "bad metrics age": ("top", "metrics: {pull_after: [1h, later]}"),
    "variable in media_root": ("top", "media_root: ${HOME}"),
    "posts not a value": ("top", "people: [a, b]"),
    "unknown platform": ("accounts", "  bird: {platform: twitter}"),
    "unsafe account name": ("accounts", '  "two words": {platform: outbox}'),
    "unknown account key": ("accounts", "  o2: {platform: outbox, colour: red}"),
    "account setting not a value": ("accounts", "  o3: {platform: outbox, folder: [a, b]}"),
    "no platform": ("accounts", "  o4: {folder: out}"),
    "unknown defaults key": ("defaults", "  colour: red"),
    "defaults value of the wrong type": ("defaults", "  numbering: maybe"),
}


@settings(max_examples=25, deadline=None)
@given(chosen=st.sets(st.sampled_from(sorted(MISTAKES))))
def test_any_combination_of_config_mistakes_is_that_many_problems_sorted(
    tmp_path_factory: pytest.TempPathFactory, chosen: set[str]
) -> None:
    root = tmp_path_factory.mktemp("campaign")
    blocks: dict[str, list[str]] = {
        "top": [],
        "accounts": ["accounts:", "  ok: {platform: outbox}"],
        "defaults": ["defaults:", "  timezone: UTC", "  accounts: [ok]"],
    }
    for name in sorted(chosen):
        where, line = MISTAKES[name]
        blocks[where].append(line)
    lines = [line for block in blocks.values() for line in block]
    (root / "config.yaml").write_text("\n".join(lines) + "\n")
    (root / "posts").mkdir()
    (root / "posts" / "a.yaml").write_text("posts:\n  - {id: a, at: 2026-12-01 09:00, text: hi}\n")
    result = run("check", str(root), "--format", "json", cwd=root)
    assert result.returncode == (3 if chosen else 0), result.stdout + result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert len(problems) == len(chosen), problems
    assert all(p["file"] == "config.yaml" and p["hint"] for p in problems), problems
    assert [p["line"] for p in problems] == sorted(p["line"] for p in problems)
    if chosen:
        assert result.stderr.startswith(f"eduadvocate: error: config.yaml:{problems[0]['line']}: ")
        assert len(result.stderr.splitlines()) == 1
