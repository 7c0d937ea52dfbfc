"""A campaign's YAML files are untrusted (a pull request may add any of them): a posts or
people file that is a symbolic link out of the campaign folder, a device, a pipe or a file that
grows without end is refused with one line naming it, never read (no hang, no unbounded
memory, nothing from outside the campaign), and the rest of the campaign is checked."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.conftest import Make
from tests.test_cli import run_process

POST = "posts:\n  - id: fine\n    at: 2027-01-05 09:00\n    text: Still checked.\n"


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("/dev/zero", "file-outside-campaign"),  # endless: it would be read until memory ran out
        ("/etc/hostname", "file-outside-campaign"),  # a file from outside the campaign
    ],
)
def test_a_posts_file_linked_out_of_the_campaign_is_refused(
    make_campaign: Make, target: str, code: str
) -> None:
    root = make_campaign({"fine.yaml": POST})
    (root / "posts" / "evil.yaml").symlink_to(target)
    result = run_process("check", "--format", "github", cwd=root)
    assert result.returncode == 4, result.stdout + result.stderr  # (files unreadable)
    lines = [line for line in result.stdout.splitlines() if "evil.yaml" in line]
    assert len(lines) == 1 and code in lines[0], result.stdout
    assert "outside the campaign folder" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_posts_file_that_is_no_regular_file_is_refused(make_campaign: Make) -> None:
    root = make_campaign({"fine.yaml": POST})
    os.mkfifo(root / "posts" / "pipe.yaml")  # opening it to read would wait for a writer
    result = run_process("check", "--format", "github", cwd=root)
    assert result.returncode == 4, result.stdout + result.stderr  # (files unreadable)
    lines = [line for line in result.stdout.splitlines() if "pipe.yaml" in line]
    assert len(lines) == 1 and "not-a-file" in lines[0], result.stdout


def test_a_link_inside_the_posts_folder_is_read(make_campaign: Make) -> None:
    root = make_campaign({"fine.yaml": POST, ".shared/kept.yaml": POST.replace("fine", "kept")})
    (root / "posts" / "linked.yaml").symlink_to(root / "posts" / ".shared" / "kept.yaml")
    result = run_process("check", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"posts": 2' in result.stdout  # (a hidden folder is not read by itself)


def test_people_linked_out_of_the_campaign_is_refused(make_campaign: Make) -> None:
    root = make_campaign({"fine.yaml": POST})
    (root / "people.yaml").unlink()
    (root / "people.yaml").symlink_to("/dev/zero")
    result = run_process("check", "--format", "github", cwd=root)
    assert result.returncode == 4, result.stdout + result.stderr  # (files unreadable)
    assert "people.yaml" in result.stdout and "file-outside-campaign" in result.stdout


def _special(kind: str, folder: Path) -> Path:
    """A posts file of ``kind`` in ``folder``: something that is no regular file in it."""
    path = folder / "posts.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()  # (the file stays)
    elif kind == "folder":
        path.mkdir()
    elif kind == "loop":
        path.symlink_to(folder / "posts.yaml")
    elif kind == "dangling":
        path.symlink_to(folder / "gone.yaml")
    elif kind == "sparse":  # 5 GB on paper, none on disk: refused by its size, never read
        with path.open("wb") as fh:
            fh.truncate(5 * 1024**3)
    else:  # a link to a device or a file outside the folder
        path.symlink_to(kind)
    return path


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("fifo", "not-a-file"),
        ("socket", "unreadable-file"),  # (a socket cannot be opened as a file at all)
        ("folder", "unreadable-file"),  # ("cannot read the file: Is a directory")
        ("loop", "unreadable-file"),
        ("dangling", "unreadable-file"),
        ("sparse", "file-too-large"),
        ("/dev/zero", "file-outside-campaign"),
        ("/dev/urandom", "file-outside-campaign"),
        ("/dev/stdin", "file-outside-campaign"),
        ("/proc/self/environ", "file-outside-campaign"),  # (would hold the secrets in $ENV)
        ("/etc/passwd", "file-outside-campaign"),
    ],
)
def test_no_special_file_is_read(tmp_path: Path, kind: str, code: str) -> None:
    """Every kind of file that is not a plain file inside the folder, refused with its code
    and a message that quotes nothing from it, at once (a read would hang or never end)."""
    from eduadvocate.core.yamlfile import YamlFileError, read_yaml

    path = _special(kind, tmp_path)
    with pytest.raises(YamlFileError) as caught:
        read_yaml(path, "posts/posts.yaml", tmp_path)
    assert caught.value.code == code
    assert str(caught.value.location) == "posts/posts.yaml"
    if kind.startswith("/"):  # the device or file itself was not even opened
        assert "leads outside" in caught.value.message


def test_a_devices_link_is_not_read_without_a_folder_either(tmp_path: Path) -> None:
    """The config's own file (read without ``within``): a device is still never read."""
    from eduadvocate.core.yamlfile import YamlFileError, read_yaml

    path = _special("/dev/zero", tmp_path)
    with pytest.raises(YamlFileError) as caught:
        read_yaml(path, "config.yaml")
    assert caught.value.code == "not-a-file"
