"""Commands that do what people try: ``check`` on one posts file, ``cancel --post`` for every
delivery of a post, ``retry`` with several ids or ``--failed``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Make
from tests.fakes.graph_api import GraphFake
from tests.test_cli import run
from tests.test_native_schedule import config as facebook_config
from tests.test_native_schedule import hours, post, waiting

# x-main has no credentials: its deliveries fail (auth), which makes failed rows to retry.
CONFIG = """\
defaults: {timezone: UTC, accounts: [outbox]}
accounts:
  outbox: {platform: outbox}
  x-main: {platform: x}
"""
MARCH = "posts:\n  - id: march-rally\n    at: 2026-12-03 18:00\n    text: Rally for schools\n"
APRIL = "posts:\n  - id: april-vote\n    at: 2026-12-04 18:00\n    text: x\n    bad_key: 1\n"


def _deliveries(root: Path, *args: str) -> list[dict]:  # type: ignore[type-arg]
    result = run("status", "--format", "json", *args, cwd=root)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["deliveries"]  # type: ignore[no-any-return]


def test_check_one_file_checks_only_that_files_posts(make_campaign: Make) -> None:
    root = make_campaign({"march.yaml": MARCH, "april.yaml": APRIL}, config=CONFIG)
    whole = run("check", cwd=root)
    assert whole.returncode == 4  # april.yaml has an error

    result = run("check", "posts/march.yaml", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr + result.stdout
    data = json.loads(result.stdout)
    assert data["summary"]["posts"] == 1
    assert data["summary"]["files"] == 1
    assert data["problems"] == []

    bad = run("check", "posts/april.yaml", "--format", "json", cwd=root)
    assert bad.returncode == 4
    assert {p["file"] for p in json.loads(bad.stdout)["problems"]} == {"posts/april.yaml"}


def test_check_one_file_from_elsewhere_uses_its_campaigns_config(
    make_campaign: Make, tmp_path: Path
) -> None:
    x_only = MARCH + "    accounts: [x-main]\n"
    root = make_campaign({"march.yaml": x_only}, config=CONFIG)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run("check", str(root / "posts" / "march.yaml"), "--format", "json", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    # The campaign's config applies: x-main is one of its accounts, not of the built-in one.
    assert json.loads(result.stdout)["summary"]["deliveries"] == 1
    assert run("check", str(root / "posts" / "march.yaml"), cwd=elsewhere).returncode == 0


def test_check_a_file_outside_any_campaign_is_a_one_line_error(
    make_campaign: Make, tmp_path: Path
) -> None:
    make_campaign({"march.yaml": MARCH}, config=CONFIG)
    stray = tmp_path / "stray.yaml"
    stray.write_text(MARCH)
    result = run("check", str(stray))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "not a posts file of this campaign" in result.stderr
    missing = run("check", "posts/nope.yaml")
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr + result.stderr


TWO = (
    "posts:\n"
    "  - id: p\n    at: now\n    accounts: [x-main, outbox]\n    text: Hello\n"
    "  - id: q\n    at: now\n    accounts: [x-main]\n    text: Again\n"
)


def test_cancel_post_cancels_every_delivery_not_yet_published(make_campaign: Make) -> None:
    root = make_campaign(TWO, config=CONFIG)
    assert run("publish", cwd=root).returncode == 5
    before = {(d["post"], d["account"]): d["state"] for d in _deliveries(root)}
    assert before == {
        ("p", "x-main"): "failed",
        ("p", "outbox"): "published",
        ("q", "x-main"): "failed",
    }
    result = run("cancel", "--post", "p", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "p → x-main: cancelled" in result.stdout
    assert "published" in result.stdout  # the outbox one is said to be left as it is
    after = {(d["post"], d["account"]): d["state"] for d in _deliveries(root)}
    assert after == {
        ("p", "x-main"): "cancelled",
        ("p", "outbox"): "published",
        ("q", "x-main"): "failed",
    }
    # Nothing left to cancel: said in one line, exit 2.
    again = run("cancel", "--post", "p", cwd=root)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1, again.stderr


def test_cancel_post_unknown_id_suggests_the_closest(make_campaign: Make) -> None:
    root = make_campaign(TWO, config=CONFIG)
    assert run("publish", cwd=root).returncode == 5
    result = run("cancel", "--post", "pp", cwd=root)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert 'did you mean "p"?' in result.stderr
    (root / "posts" / "later.yaml").write_text(MARCH)
    later = run("cancel", "--post", "march-rally", cwd=root)
    assert later.returncode == 2
    assert "not been due yet" in later.stderr
    assert later.stderr.count("\n") == 1, later.stderr
    both = run("cancel", "1", "--post", "p", cwd=root)
    assert both.returncode == 2
    neither = run("cancel", cwd=root)
    assert neither.returncode == 2
    assert "Traceback" not in result.stderr + both.stderr + neither.stderr


def test_retry_takes_several_ids(make_campaign: Make) -> None:
    root = make_campaign(TWO, config=CONFIG)
    assert run("publish", cwd=root).returncode == 5
    failed = [d["id"] for d in _deliveries(root, "--state", "failed")]
    assert len(failed) == 2
    result = run("retry", *map(str, failed), cwd=root)
    assert result.returncode == 0, result.stderr
    assert sorted(d["id"] for d in _deliveries(root, "--state", "pending")) == sorted(failed)


def test_retry_several_ids_changes_nothing_when_one_is_wrong(make_campaign: Make) -> None:
    root = make_campaign(TWO, config=CONFIG)
    assert run("publish", cwd=root).returncode == 5
    rows = _deliveries(root)
    failed = [d["id"] for d in rows if d["state"] == "failed"]
    published = next(d["id"] for d in rows if d["state"] == "published")
    for bad in (str(published), "999"):
        result = run("retry", str(failed[0]), bad, cwd=root)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
    assert sorted(d["id"] for d in _deliveries(root, "--state", "failed")) == sorted(failed)


def test_retry_failed_retries_the_failed_ones_only(make_campaign: Make) -> None:
    root = make_campaign(TWO, config=CONFIG)
    assert run("publish", cwd=root).returncode == 5
    rows = _deliveries(root, "--state", "failed")
    assert run("cancel", str(rows[0]["id"]), cwd=root).returncode == 0
    result = run("retry", "--failed", cwd=root)
    assert result.returncode == 0, result.stderr
    states = {d["id"]: d["state"] for d in _deliveries(root)}
    assert states[rows[0]["id"]] == "cancelled"  # cancelled is not failed: left alone
    assert states[rows[1]["id"]] == "pending"
    none_left = run("retry", "--failed", cwd=root)
    assert none_left.returncode == 0
    assert "No failed deliveries" in none_left.stdout
    assert run("retry", "--failed", "1", cwd=root).returncode == 2
    assert run("retry", cwd=root).returncode == 2
    assert "--failed" in run("retry", "--help").stdout


@pytest.fixture
def fake_graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphFake]:
    monkeypatch.delenv("EDUADVOCATE_NOW")  # Facebook's scheduling window is judged on real time
    with GraphFake() as fake:
        yield fake


def test_cancel_post_deletes_it_from_facebooks_scheduler(
    fake_graph: GraphFake, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = fake_graph.add_page(name="Springfield PTA")
    monkeypatch.setenv("FB_TOKEN", page.access_token)
    root = make_campaign(post(hours(2)), config=facebook_config(fake_graph, page))
    assert run("publish", cwd=root).returncode == 0
    assert len(waiting(fake_graph, page)) == 1
    result = run("cancel", "--post", "hearing", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deleted from the platform's scheduler" in result.stdout
    assert waiting(fake_graph, page) == []
    assert [d["state"] for d in _deliveries(root)] == ["cancelled"]


@pytest.mark.parametrize("command", ["render", "calendar"])
def test_every_command_that_takes_a_folder_takes_one_posts_file(
    make_campaign: Make, command: str
) -> None:
    """What check does with one file, render and calendar do too: only that file's posts (they
    refused with "is not a folder")."""
    other = "posts:\n  - id: other-post\n    at: 2026-12-04 18:00\n    text: Other words\n"
    root = make_campaign({"march.yaml": MARCH, "other.yaml": other}, config=CONFIG)
    args = ["--format", "json"] if command != "calendar" else ["--days", "30"]
    result = run(command, "posts/march.yaml", *args, cwd=root)
    assert result.returncode == 0, result.stderr
    assert "march-rally" in result.stdout
    assert "other-post" not in result.stdout
    assert "other-post" in run(command, *args, cwd=root).stdout


def test_config_option_takes_the_campaign_folder(make_campaign: Make, tmp_path: Path) -> None:
    """`--config my-campaign` means its config.yaml; a folder without one is a one-line error
    that says so (it said "config file . not found")."""
    root = make_campaign({"march.yaml": MARCH}, config=CONFIG)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_file = run("check", "--config", str(root / "config.yaml"), "--format", "json", cwd=elsewhere)
    by_folder = run("check", "--config", str(root), "--format", "json", cwd=elsewhere)
    assert by_folder.returncode == by_file.returncode == 0, by_folder.stderr
    assert json.loads(by_folder.stdout) == json.loads(by_file.stdout)

    empty = run("check", "--config", str(elsewhere), cwd=elsewhere)
    assert empty.returncode == 3
    assert empty.stderr.count("\n") == 1, empty.stderr
    assert "is a folder with no config.yaml in it" in empty.stderr
    assert "--config path/to/config.yaml" in empty.stderr


BROKEN_POSTS = {
    "invalid-yaml": "posts:\n  - id: a\n   text: x\n",
    "unknown-key": "posts:\n  - id: a\n    at: now\n    text: x\n    utm: 1\n",
    "empty-text": 'posts:\n  - id: a\n    at: now\n    text: "  "\n',
    "time-invalid": "posts:\n  - id: a\n    at: tomorrow\n    text: x\n",
    "unknown-person": "posts:\n  - id: a\n    at: now\n    text: hi {@nobody}\n",
    "two-errors": "posts:\n  - id: a\n    at: tomorrow\n    text: x\n  - id: b\n    text: y\n",
}


@pytest.mark.parametrize("command", ["render", "calendar", "publish --dry-run", "publish"])
@pytest.mark.parametrize("broken", sorted(BROKEN_POSTS))
def test_a_refusal_says_error_once(make_campaign: Make, command: str, broken: str) -> None:
    """The command prints "eduadvocate: error: " and the problem; the problem does not say
    "error:" again after its file:line ("posts/a.yaml:5: error: ..." read as doubled), and counts
    are in words ("1 more error", not "error(s)")."""
    root = make_campaign({"a.yaml": BROKEN_POSTS[broken]}, config=CONFIG)
    result = run(*command.split(), cwd=root)
    if command == "calendar":  # refuses a file it cannot read; shows what publish will hold
        assert result.returncode != 0 or "eduadvocate check" in result.stdout, result.stdout
    elif command != "render":  # render shows the texts; it refuses only files it cannot read
        assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    for line in result.stderr.splitlines():
        assert line.count("error") - line.count("errors") <= 1 or "more error" in line, line
        assert "(s)" not in line, line


def test_render_says_what_check_would_of_the_posts_it_shows(make_campaign: Make) -> None:
    """render printed the texts and nothing of their problems: a warning such as utm-dropped
    or an unknown person showed only in `check`."""
    person = "posts:\n  - id: thanks\n    at: 2026-12-05 10:00\n    text: Thanks {@nobody}\n"
    root = make_campaign({"march.yaml": MARCH, "thanks.yaml": person}, config=CONFIG)
    shown = run("render", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert "1 error and 0 warnings in these posts" in shown.stdout
    assert "unknown-person" in shown.stdout
    assert "add them to people.yaml" in shown.stdout  # what to do, as check says it
    clean = run("render", "--post", "march-rally", cwd=root)
    assert "unknown-person" not in clean.stdout
    assert "in these posts" not in clean.stdout


@pytest.mark.parametrize("sub", ["pull", "list", "done 1", "open 1"])
def test_an_inbox_option_before_its_subcommand_is_refused_not_ignored(
    make_campaign: Make, sub: str
) -> None:
    """`inbox --account A pull` gave A to `inbox` (Click's group) and pulled every account."""
    root = make_campaign({"march.yaml": MARCH}, config=CONFIG)
    result = run("inbox", "--account", "outbox", *sub.split(), cwd=root)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    name = sub.split(maxsplit=1)[0]
    assert f"--account goes after `{name}`" in result.stderr
    assert f"eduadvocate inbox {name} --account" in result.stderr
    assert run("inbox", "pull", "--account", "outbox", cwd=root).returncode == 0


def test_a_post_held_for_its_time_says_so_without_a_time(make_campaign: Make) -> None:
    """publish passed over a post whose time cannot be read ("Nothing was due.", exit 0); it is
    held and said on every run, with no due time in the line's TIME column."""
    root = make_campaign({"a.yaml": BROKEN_POSTS["time-invalid"]}, config=CONFIG)
    for _ in range(2):
        result = run("publish", cwd=root)
        assert result.returncode == 4, result.stdout + result.stderr
        held = [line for line in result.stderr.splitlines() if "! held" in line]
        assert len(held) == 1, result.stderr
        assert held[0].startswith("--:--  ! held  a  outbox  "), held[0]
        assert "Nothing was due" not in result.stdout
