"""``eduadvocate init``, through the real command: it never follows a symbolic link, never
overwrites or adds to an existing campaign, and writes a ``.gitignore`` that keeps the ledger's
side files, the outbox, session files and ``.env`` out of git."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import run

IGNORED = [
    ".eduadvocate/ledger.sqlite3",
    ".eduadvocate/ledger.sqlite3-wal",
    ".eduadvocate/ledger.sqlite3-shm",
    ".eduadvocate/ledger.sqlite3.lock",
    ".eduadvocate/sessions/pta.session",
    "outbox/outbox/2026-12-03T18-00--welcome.json",
    ".env",
    "posts/.env",
]
TRACKED = [
    "config.yaml",
    "people.yaml",
    "posts/welcome.yaml",
    ".eduadvocate/posts.schema.json",
    ".gitignore",
]


def _tree(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (symbolic links not followed): its kind and content."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[rel] = "folder"
        else:
            found[rel] = path.read_text()
    return found


def _ignored(root: Path, paths: list[str]) -> set[str]:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        input="\n".join(paths),
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return set(done.stdout.split())


def test_init_writes_a_gitignore_for_what_runs_leave_behind(tmp_path: Path) -> None:
    result = run("init", "drive", "--timezone", "UTC", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "created drive/.gitignore" in result.stdout
    root = tmp_path / "drive"
    assert _ignored(root, IGNORED + TRACKED) == set(IGNORED)


def test_an_existing_gitignore_keeps_its_lines_and_gets_only_the_missing_ones(
    tmp_path: Path,
) -> None:
    root = tmp_path / "drive"
    root.mkdir()
    mine = "# mine\n.env\nnotes/\n/outbox/"  # no newline at the end
    (root / ".gitignore").write_text(mine)
    result = run("init", ".", "--timezone", "UTC", cwd=root)
    assert result.returncode == 0, result.stderr
    text = (root / ".gitignore").read_text()
    assert text.startswith(mine + "\n")
    assert text.count(".env") == 1 and text.count("/outbox/") == 1
    assert "eduadvocate: warning: .gitignore was already there: added" in result.stderr
    assert _ignored(root, IGNORED + TRACKED + ["notes/a"]) == {*IGNORED, "notes/a"}
    again = (root / ".gitignore").read_text()
    run("init", ".", cwd=root)  # now an existing campaign: nothing changes
    assert (root / ".gitignore").read_text() == again


def test_init_on_an_existing_campaign_leaves_it_untouched_and_says_so(tmp_path: Path) -> None:
    """No welcome post (it is due `now`: it would go out at the next run), no people.yaml, no
    schema, no .gitignore: a campaign folder is never changed by init."""
    root = tmp_path / "campaign"
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text("accounts:\n  x-main: {platform: outbox}\n")
    (root / "posts" / "hearing.yaml").write_text("posts: []\n")
    before = _tree(root)
    result = run("init", ".", "--timezone", "UTC", cwd=root)
    assert result.returncode == 0, result.stderr
    assert _tree(root) == before
    assert "created" not in result.stdout
    assert "kept    config.yaml (already there)" in result.stdout
    assert result.stderr == (
        "eduadvocate: warning: . already holds a campaign (config.yaml, posts): init left it"
        " untouched\n"
    )


@pytest.mark.parametrize(
    "link",
    ["config.yaml", "people.yaml", ".gitignore", ".eduadvocate", ".eduadvocate/posts.schema.json"],
)
def test_init_never_follows_a_dangling_symlink(tmp_path: Path, link: str) -> None:
    """A link left in the folder (by a checkout, or by someone who wants init to write elsewhere)
    is kept as it is; nothing is written where it points."""
    root = tmp_path / "drive"
    outside = tmp_path / "outside" / "target"
    outside.parent.mkdir()  # where the link points can be written: init must still not
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(outside)
    result = run("init", "drive", "--timezone", "UTC", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not outside.exists() and not outside.is_symlink()
    assert (root / link).is_symlink() and os.readlink(root / link) == str(outside)
    assert f"drive/{link} is a symbolic link: init does not follow it" in result.stderr


def test_init_does_not_write_through_a_symlinked_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "drive"
    root.mkdir()
    (root / ".eduadvocate").symlink_to(elsewhere)
    result = run("init", "drive", "--timezone", "UTC", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(elsewhere.iterdir()) == []
    assert "drive/.eduadvocate is a symbolic link: init does not follow it" in result.stderr


def test_init_into_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "drive").symlink_to(tmp_path / "nowhere")
    result = run("init", "drive", "--timezone", "UTC", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "eduadvocate: error: drive is a symbolic link to a missing folder: init does not follow"
        " it. remove the link, or create the folder it points to\n"
    )
    assert not (tmp_path / "nowhere").exists()


def test_the_sample_posts_cannot_go_public_by_accident(tmp_path: Path) -> None:
    """init's posts are samples: ids and texts say so, each names the outbox itself (so adding
    a real account to the defaults does not send them there), and they are dated after init,
    so a publish right away sends nothing."""
    from datetime import datetime

    from tests.conftest import NOW

    assert run("init", "drive", "--timezone", "America/Chicago", cwd=tmp_path).returncode == 0
    root = tmp_path / "drive"
    check = run("check", "--format", "json", cwd=root)
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["problems"] == []
    assert "SAMPLE" in (root / "posts" / "welcome.yaml").read_text().splitlines()[1]
    due = run("publish", "--dry-run", "--format", "json", cwd=root)
    assert due.returncode == 0, due.stdout + due.stderr
    assert json.loads(due.stdout)["deliveries"] == []
    config = root / "config.yaml"
    config.write_text(
        config.read_text().replace("accounts: [outbox]", "accounts: [outbox, m]")
        + "  m: {platform: mastodon, instance: https://m.example, access_token: '${T}'}\n"
    )
    rendered = run("render", "--format", "json", cwd=root)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    deliveries = json.loads(rendered.stdout)["deliveries"]
    assert {d["post"] for d in deliveries} == {"sample-welcome", "sample-weekly-reminder"}
    assert {d["account"] for d in deliveries} == {"outbox"}
    assert all(d["parts"][0]["text"].startswith("SAMPLE: ") for d in deliveries)
    now = datetime.fromisoformat(NOW.replace("Z", "+00:00"))
    assert all(datetime.fromisoformat(d["at"].replace("Z", "+00:00")) > now for d in deliveries)


@pytest.mark.parametrize(
    ("folder", "next_step"),
    [
        ("drive", "Next: cd drive, then edit posts/"),
        ("my drive", "Next: cd 'my drive', then edit posts/"),
        (".", "Next: edit posts/"),
    ],
)
def test_init_says_the_next_step_from_where_you_are(
    tmp_path: Path, folder: str, next_step: str
) -> None:
    """It said "cd into the folder" for `init .`, and again when it left a campaign untouched."""
    result = run("init", folder, "--timezone", "UTC", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert next_step in " ".join(result.stdout.split())
    again = run("init", folder, "--timezone", "UTC", cwd=tmp_path)
    assert "Next:" not in again.stdout
    assert "left it untouched" in again.stderr
