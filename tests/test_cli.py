"""The command line: exact output, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import launch
from tests.conftest import REPO, Make


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``eduadvocate ARGS`` in this process, through Typer's runner, with the tests' Runtime
    (conftest's clock): the exit status, stdout and stderr a process would give. A crash point
    (``EDUADVOCATE_CRASH_AT``) needs a process to kill, so that runs as :func:`run_process`."""
    if (env or {}).get(launch.CRASH_ENV):
        return run_process(*args, cwd=cwd, env=env)
    from eduadvocate.cli.main import run as main

    status = 0
    with _as_a_new_process(), CliRunner().isolation(env=env) as (out, err, _):
        here = Path.cwd()
        try:
            if cwd is not None:
                os.chdir(cwd)
            main(list(args), runtime=launch.runtime())
        except SystemExit as exc:
            status = int(exc.code) if isinstance(exc.code, int) else 0 if exc.code is None else 1
        except Exception:  # what `--traceback` lets through: Python would print it, exit 1
            traceback.print_exc()
            status = 1
        finally:
            os.chdir(here)
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return subprocess.CompletedProcess(["eduadvocate", *args], status, stdout, stderr)


@contextlib.contextmanager
def _as_a_new_process() -> Iterator[None]:
    """What a fresh interpreter would start with: Python's default warning filters (not the
    suite's "error"; the command shows a warning as a line on stderr), a root logger without
    pytest's handlers (a library's warning reaches stderr, as in a process) and empty caches
    (some remember files, e.g. media sniffing). The warning and logging settings are undone."""
    for name, module in list(sys.modules.items()):
        if name.startswith("eduadvocate"):
            for value in list(vars(module).values()):
                if isinstance(value, functools._lru_cache_wrapper):
                    value.cache_clear()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():  # restores the filters and warnings.showwarning
            warnings.resetwarnings()
            for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning):
                warnings.simplefilter("ignore", category)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def run_process(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``eduadvocate ARGS`` in a process of its own (tests/launch.py), with the tests' Runtime:
    for what needs a real process (a crash point, a lock another process holds)."""
    return subprocess.run(
        launch.command(*args),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=launch.environment({**os.environ, **(env or {})}),
        check=False,
    )


def run_installed(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real entry point (``python -m eduadvocate``) in a subprocess, as a user runs it: the
    system's clock for everything but the previews, and no probe."""
    return subprocess.run(
        [sys.executable, "-m", "eduadvocate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version() -> None:
    from eduadvocate import __version__

    result = run_installed("--version")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"eduadvocate {__version__}\n",
        "",
    )


@pytest.mark.parametrize("command", ["check", "render", "calendar", "init", "schema"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert "Usage: eduadvocate " + command in result.stdout


@pytest.mark.parametrize("group", [[], ["ledger"], ["accounts"]], ids=" ".join)
def test_a_group_alone_shows_its_help_and_nothing_else(group: list[str]) -> None:
    """``eduadvocate`` (or ``eduadvocate ledger``) alone prints the help, as ``--help`` does,
    and exits 2 (usage: no command named), with no "Error:" line (it printed the usage again
    and an empty "Error: " on stderr)."""
    result = run_installed(*group, env={"COLUMNS": "80"})
    shown = run_installed(*group, "--help", env={"COLUMNS": "80"})
    assert (result.returncode, result.stderr) == (2, "")
    assert result.stdout == shown.stdout
    assert "─ Commands ─" in result.stdout


def test_check_clean_campaign(make_campaign: Make) -> None:
    make_campaign("posts:\n  - id: a\n    at: 2026-12-03 18:00\n    text: Fund our schools.\n")
    result = run("check")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "✓ no problems (1 post, 3 deliveries in 1 file)\n",
        "",
    )


def test_check_errors_exit_4_with_table(make_campaign: Make) -> None:
    make_campaign(
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [x-main]\n    text: Tell {@lopes}\n"
    )
    result = run("check")
    assert result.returncode == 4
    lines = result.stdout.splitlines()
    # No account in any row: the table leaves the column out.
    assert lines[0].split() == ["Where", "Post", "Problem", "What", "to", "do"]
    assert lines[1].split()[:4] == ["posts/posts.yaml:5", "a", "error", "unknown-person"]
    assert "did you mean" in lines[1]
    assert lines[-1] == "✗ 1 error, 0 warnings (1 post, 1 delivery in 1 file)"


def test_check_json_is_stable(make_campaign: Make) -> None:
    make_campaign(
        "posts:\n  - id: a\n    at: 2026-01-01 09:00\n    accounts: [x-main]\n    text: hi\n"
    )
    result = run("check", "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "version": 1,
        "ok": True,
        "summary": {"errors": 0, "warnings": 1, "posts": 1, "deliveries": 1, "files": 1},
        "problems": [
            {
                "file": "posts/posts.yaml",
                "line": 3,
                "column": 9,
                "post": "a",
                "account": None,
                "code": "time-past",
                "severity": "warning",
                "message": "at: 2026-01-01 09:00 is in the past, so it will not be published",
                "hint": "change the time, or delete the post once it is no longer needed",
            }
        ],
    }


def test_check_github_annotations(make_campaign: Make) -> None:
    make_campaign(
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [x-main]\n    split: never\n    text: '%s'\n"
        % ("z" * 281)
    )
    result = run("check", "--format", "github")
    assert result.returncode == 4
    assert result.stdout.splitlines() == [
        "::error file=posts/posts.yaml,line=6,col=11,title=over-limit::281 characters, X allows 280 "
        "(post a, account x-main). shorten it, or set split: auto to post it as a thread",
        "✗ 1 error, 0 warnings (1 post, 1 delivery in 1 file)",
    ]


def test_render_json_contract(make_campaign: Make) -> None:
    make_campaign(
        "utm: false\nposts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [bsky]\n    text: 'Hi @lopez.bsky.social #Fund https://example.org'\n"
    )
    result = run("render", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (delivery,) = data["deliveries"]
    assert {k: delivery[k] for k in ("post", "account", "platform", "at", "when")} == {
        "post": "a",
        "account": "bsky",
        "platform": "bluesky",
        "at": "2026-12-04T00:00:00Z",
        "when": "once",
    }
    (part,) = delivery["parts"]
    assert (part["text"], part["length"], part["limit"]) == (
        "Hi @lopez.bsky.social #Fund https://example.org",
        47,
        300,
    )
    assert part["facets"] == [
        {"type": "mention", "byteStart": 3, "byteEnd": 21, "value": "lopez.bsky.social"},
        {"type": "tag", "byteStart": 22, "byteEnd": 27, "value": "Fund"},
        {"type": "link", "byteStart": 28, "byteEnd": 47, "value": "https://example.org"},
    ]


def test_render_unknown_post_is_a_usage_error(make_campaign: Make) -> None:
    make_campaign("posts:\n  - id: hello\n    at: now\n    text: hi\n")
    result = run("render", "--post", "helo")
    assert result.returncode == 2
    assert result.stderr == 'eduadvocate: error: no post with id "helo". did you mean "hello"?\n'


def test_calendar_groups_by_day_and_account(make_campaign: Make) -> None:
    make_campaign(
        "posts:\n"
        "  - id: weekly\n    every: weekly on Monday 09:00\n    accounts: [x-main]\n    text: Sign the petition\n"
        "  - id: once\n    at: 2026-11-30 18:00\n    accounts: [bsky, x-main]\n    text: Hearing soon\n"
    )
    result = run("calendar", "--days", "10", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["zone"] == "America/Chicago"
    days = {
        d["date"]: [(x["account"], x["local"], x["post"]) for x in d["deliveries"]]
        for d in data["days"]
    }
    assert days == {
        "2026-11-30": [
            ("bsky", "18:00", "once"),
            ("x-main", "09:00", "weekly"),
            ("x-main", "18:00", "once"),
        ],
        "2026-12-07": [("x-main", "09:00", "weekly")],
    }
    text = run("calendar", "--days", "10")
    assert text.returncode == 0
    assert text.stdout.splitlines()[0] == "Monday 30 November 2026"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.yaml": "posts:\n  - id: a\n   text: x\n"}, "posts/a.yaml:3: invalid YAML"),
        ({"a.yaml": b"posts: caf\xe9\n"}, "posts/a.yaml:1: the file is not valid UTF-8"),
    ],
)
def test_broken_files_one_line_no_traceback(
    make_campaign: Make, files: dict[str, object], expected: str
) -> None:
    root = make_campaign({})
    for name, content in files.items():
        path = root / "posts" / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(str(content))
    result = run("render")
    assert result.returncode == 4
    assert result.stderr.startswith("eduadvocate: error: " + expected)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_config_errors_exit_3(make_campaign: Make) -> None:
    make_campaign("posts: []\n", config="accounts:\n  a: {platform: mastodn}\n")
    result = run("check")
    assert result.returncode == 3
    assert result.stderr == (
        'eduadvocate: error: config.yaml:2: account "a": unknown platform "mastodn". did you mean "mastodon"?\n'
    )


def test_traceback_flag_shows_one(make_campaign: Make) -> None:
    make_campaign("posts: []\n", config="accounts: [1\n")
    result = run("check", "--traceback")
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    result = run("check", "--config", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 3
    assert (
        result.stderr
        == "eduadvocate: error: config file nope.yaml not found. check the path, or run `eduadvocate init`\n"
    )


def test_init_scaffolds_a_campaign_that_passes_check(tmp_path: Path) -> None:
    result = run("init", "spring-drive", "--timezone", "Europe/Berlin", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "spring-drive"
    assert (
        (folder / "posts" / "welcome.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=../.eduadvocate/posts.schema.json\n")
    )
    check = run("check", cwd=folder)
    assert check.returncode == 0, check.stdout + check.stderr
    again = run("init", "spring-drive", cwd=tmp_path)
    assert "kept" in again.stdout  # never overwrites


def test_init_rejects_bad_timezone(tmp_path: Path) -> None:
    result = run("init", "x", "--timezone", "Europe/Berln", cwd=tmp_path)
    assert result.returncode == 2
    assert "Europe/Berlin" in result.stderr


def test_schema_validates_the_examples() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    class Loader(yaml.SafeLoader):
        """YAML as editors read it: dates stay text."""

    Loader.yaml_implicit_resolvers = {
        key: [(tag, rx) for tag, rx in resolvers if not tag.endswith(":timestamp")]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    result = run("schema")
    schema = json.loads(result.stdout)
    for path in sorted((REPO / "posts").rglob("*.yaml")):
        jsonschema.validate(yaml.load(path.read_text(), Loader=Loader), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"posts": [{"id": "a", "txt": "typo"}]}, schema)


def test_readme_first_command_runs_on_the_example() -> None:
    result = run_installed("check", "--config", "config.example.yaml", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_twitter_is_suggested_as_x(make_campaign: Make) -> None:
    make_campaign("posts: []\n", config="accounts:\n  a: {platform: twitter}\n")
    result = run("check")
    assert result.returncode == 3
    assert result.stderr.endswith('unknown platform "twitter". did you mean "x"?\n')


def test_literal_secret_in_a_readable_config_warns(make_campaign: Make) -> None:
    root = make_campaign(
        "posts: []\n",
        config="accounts:\n  m: {platform: mastodon, instance: https://m.example, access_token: s3cr3t-literal}\n",
    )
    (root / "config.yaml").chmod(0o644)
    result = run("check")
    assert result.returncode == 0
    assert 'config.yaml:2: account "m": access_token is written in the config file' in result.stderr
    assert "s3cr3t-literal" not in result.stderr + result.stdout
    (root / "config.yaml").chmod(0o600)
    quiet = run("check")
    assert quiet.stderr == ""


def test_text_from_campaign_files_prints_as_written_not_as_rich_markup(make_campaign: Make) -> None:
    """A post text (or any value from the files) that looks like Rich markup is shown as it is:
    it must not style the terminal or become a hyperlink."""
    make_campaign(
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [x-main]\n"
        "    text: 'Vote [link=https://evil.example]here[/link] [bold red]now[/bold red]'\n"
    )
    shown = run("calendar", "--days", "10")
    assert shown.returncode == 0, shown.stderr
    assert "[link=https://evil.example]here[/link] [bold red]now[/bold red]" in shown.stdout


def test_a_bluesky_account_takes_the_link_card_limits(make_campaign: Make) -> None:
    config = (
        "defaults: {timezone: UTC, accounts: [bsky]}\naccounts:\n  bsky: {platform: bluesky,"
        " handle: pta.bsky.social, card_timeout: 5, card_max_html: 200000,"
        " card_max_image: 1000000, card_ports: '8080'}\n"
    )
    make_campaign("posts:\n  - id: a\n    at: 2026-12-03 18:00\n    text: Hello\n", config=config)
    result = run("check")
    assert result.returncode == 0, result.stdout + result.stderr
