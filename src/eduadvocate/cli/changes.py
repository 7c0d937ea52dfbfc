"""Which posts are new, edited or removed since a git ref (``render --changed-since REF``).

The posts files as they were at the ref are read from git (``git show REF:path``, an argument
list, never a shell) and loaded with the same loader as today's, against today's config; each
post is compared by id on what it says and when and where it goes, not on where it is written,
so moving a post within its file or renaming the file is no change. A media file whose bytes
changed since the ref makes the posts that attach it edited.
"""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from eduadvocate.campaign.workspace import Workspace
from eduadvocate.content.load import load_file
from eduadvocate.content.model import Post
from eduadvocate.core.errors import Location, Problem, UsageError
from eduadvocate.platforms.registry import platform_names

GIT_TIMEOUT_S = 60  # a huge repository on a slow disk; git itself never waits on the network here
_SKIPPED_FIELDS = frozenset({"file"})  # where a post is written is not what it says


@dataclass(frozen=True)
class Removed:
    """A post that was in the ref's files and is in none of today's."""

    id: str
    location: Location


@dataclass
class Changes:
    """The posts that differ from ``ref``: new and edited ids, and the removed posts."""

    ref: str
    new: set[str] = field(default_factory=set)
    edited: set[str] = field(default_factory=set)
    removed: list[Removed] = field(default_factory=list)

    @property
    def changed(self) -> set[str]:
        return self.new | self.edited

    def as_dict(self) -> dict[str, Any]:
        """The ``changed_since`` object of ``render --format json --changed-since``."""
        return {
            "ref": self.ref,
            "new": sorted(self.new),
            "edited": sorted(self.edited),
            "removed": [
                {"post": r.id, "file": r.location.file, "line": r.location.line or None}
                for r in self.removed
            ],
        }

    def summary(self) -> str:
        """One line for ``render``'s text: what changed since the ref."""
        line = f"Since {self.ref}: {len(self.new)} new, {len(self.edited)} edited"
        if self.removed:
            line += f", removed: {', '.join(r.id for r in self.removed)}"
        return line + "."


def changes_since(ws: Workspace, ref: str) -> Changes:
    """Compare today's campaign with its posts files at ``ref`` (a branch, tag or commit)."""
    config = ws.config
    if ref.startswith("-"):
        raise UsageError(f'"{ref}" is not a git ref', hint="name a branch, tag or commit")
    top = Path(_git(config.root, "rev-parse", "--show-toplevel", ref=ref).strip())
    commit = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ref=ref).strip()
    posts_rel = _relative(config.posts_dir, top)
    old_posts, old_files = _old_posts(ws, top, commit, posts_rel)
    touched = set(
        _git(top, "diff", "--name-only", "-z", "--no-renames", commit, "--", ref=ref).split("\0")
    )
    changes = Changes(ref=ref)
    today = {p.id: p for p in reversed(ws.campaign.posts)}  # the first of a duplicated id wins
    for post_id, post in today.items():
        before = old_posts.get(post_id)
        if before is None:
            changes.new.add(post_id)
        elif _fingerprint(before) != _fingerprint(post) or _media_touched(post, top, ws, touched):
            changes.edited.add(post_id)
    # A file that cannot be read today holds posts that are not gone: they are not "removed".
    readable = {p.loc.file for p in ws.campaign.posts}
    unreadable = {
        p.location.file
        for p in ws.campaign.problems
        if p.severity == "error" and p.location is not None and p.location.file not in readable
    }
    for post_id, post in old_posts.items():
        if post_id not in today and old_files[post_id] not in unreadable:
            changes.removed.append(Removed(post_id, post.loc))
    changes.removed.sort(key=lambda r: (r.location.file, r.location.line, r.id))
    return changes


def _old_posts(
    ws: Workspace, top: Path, commit: str, posts_rel: PurePosixPath
) -> tuple[dict[str, Post], dict[str, str]]:
    """The posts at ``commit`` by id, and the file each was read from (as today's display it)."""
    config = ws.config
    listed = _git(
        top, "ls-tree", "-r", "-z", "--name-only", commit, "--", str(posts_rel), ref=commit
    )
    platforms = platform_names()
    posts: dict[str, Post] = {}
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="eduadvocate-ref-") as tmp:
        for name in filter(None, listed.split("\0")):
            rel = PurePosixPath(name).relative_to(posts_rel)
            # The same files the loader reads today: *.yaml/*.yml outside hidden folders.
            if rel.suffix not in (".yaml", ".yml") or any(p.startswith(".") for p in rel.parts):
                continue
            blob = _git_bytes(top, "show", f"{commit}:{name}", ref=commit)
            path = Path(tmp, *rel.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
            display = config.display(config.posts_dir.joinpath(*rel.parts))
            ignored: list[Problem] = []  # the ref's own mistakes are not today's problems
            for post in load_file(path, display, config.defaults, platforms, ignored):
                if post.id not in posts:
                    posts[post.id] = post
                    files[post.id] = display
    return posts, files


def _fingerprint(value: Any) -> Any:
    """A value with every ``Location`` (and the file name) left out, for comparing posts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(
                (f.name, _fingerprint(getattr(value, f.name)))
                for f in dataclasses.fields(value)
                if f.name not in _SKIPPED_FIELDS
                and not isinstance(getattr(value, f.name), Location)
            ),
        )
    if isinstance(value, dict):
        return tuple(sorted((k, _fingerprint(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_fingerprint(v) for v in value)
    return value


def _media_touched(post: Post, top: Path, ws: Workspace, touched: set[str]) -> bool:
    contents = [post.content, *post.overrides.values()]
    for content in contents:
        for media in content.media or ():
            try:
                rel = _relative(ws.config.root / media.path, top)
            except UsageError:
                continue  # outside the repository: check reports media-outside
            if str(rel) in touched:
                return True
    return False


def _relative(path: Path, top: Path) -> PurePosixPath:
    try:
        return PurePosixPath(path.resolve().relative_to(top.resolve()).as_posix())
    except ValueError:
        raise UsageError(
            f"{path} is not inside the git repository at {top}",
            hint="run render --changed-since from a campaign kept in git",
        ) from None


def _git(cwd: Path, *args: str, ref: str) -> str:
    return _git_bytes(cwd, *args, ref=ref).decode("utf-8", "surrogateescape")


def _git_bytes(cwd: Path, *args: str, ref: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise UsageError(
            "--changed-since needs git, which is not installed here",
            hint="install git, or leave out --changed-since",
        ) from None
    if done.returncode == 0:
        return done.stdout
    said = done.stderr.decode("utf-8", "replace")
    if "not a git repository" in said:
        raise UsageError(
            f"{cwd} is not in a git repository, so --changed-since {ref} has nothing to compare",
            hint="run it in a clone of the campaign, or leave out --changed-since",
        )
    if args[:2] == ("rev-parse", "--verify"):
        raise UsageError(
            f'git knows no commit "{ref}"',
            hint="fetch it first (git fetch origin main, or actions/checkout with fetch-depth: 0)"
            " or name another branch, tag or commit",
        )
    first = said.strip().splitlines()[:1]
    raise UsageError(
        f"git {args[0]} failed: {first[0] if first else f'exit {done.returncode}'}",
        hint="check that the campaign's git repository is readable",
    )
