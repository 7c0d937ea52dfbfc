"""``eduadvocate reply ITEM``: an answer to an inbox item, written as a posts file and then
published like any post.

The answer becomes ``posts/replies/reply-<item>.yaml``: ``reply_to:`` the item's address,
``accounts:`` the item's account, ``at: now``, and the text (or the fields of a ``--file``).
From there it is an ordinary post: checked by the same rules, recorded in the same ledger and
sent by the same dispatcher, so it goes out exactly once and shows in ``status``; the file stays
in the campaign, where a team reviews it like any other. It is checked *before* it is written
(nothing is written or sent for a reply with errors), and an existing file is never overwritten:
answering an item twice is refused, so it cannot be posted twice.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from eduadvocate.campaign.workspace import Workspace
from eduadvocate.compose.check import analyse
from eduadvocate.content.load import load_file
from eduadvocate.core.errors import Location, PostsInvalid, Problem, UsageError
from eduadvocate.core.yamlfile import YamlFileError, read_yaml
from eduadvocate.ledger.base import InboxRow, Ledger
from eduadvocate.platforms.registry import platform_names, spec_class

FOLDER = "replies"  # inside the posts folder
SET_HERE = ("id", "at", "every", "from", "until", "accounts", "reply_to")  # what reply writes
INDENT = "    "


@dataclass(frozen=True, slots=True)
class Reply:
    """A checked answer, ready to be written: its post id, where it goes and what it says."""

    post_id: str
    item: InboxRow
    path: Path
    display: str
    text: str  # the posts file
    target: str  # the address it answers
    parts: list[str]  # the text of each part, rendered for the item's account


def prepare(
    ws: Workspace, ledger: Ledger, item_id: int, text: str | None, file: Path | None
) -> Reply:
    """The answer to inbox item ``item_id``, checked (raises :class:`PostsInvalid` with every
    error, or :class:`UsageError`); nothing is written."""
    row = ledger.inbox_item(item_id)
    if row is None:
        raise UsageError(f"no inbox item {item_id}", hint="`eduadvocate inbox` lists their ids")
    if row.item.account not in ws.config.accounts:
        raise UsageError(
            f'inbox item {item_id} is for the account "{row.item.account}", which the config no'
            " longer has",
            hint="add the account back to config.yaml to answer from it",
        )
    if (text is None) == (file is None):
        raise UsageError(
            "give the reply's text, or --file with its fields, not both",
            hint=f'eduadvocate reply {item_id} "Thank you!"',
        )
    account = ws.config.accounts[row.item.account]
    target = spec_class(account.platform)(account).item_address(row.item.url, row.item.remote_id)
    post_id = f"reply-{item_id}"
    path = ws.config.posts_dir / FOLDER / f"{post_id}.yaml"
    display = ws.config.display(path)
    if path.exists():
        raise UsageError(
            f"inbox item {item_id} has an answer already: {display}",
            hint="`eduadvocate status` shows whether it went out; edit that file to change it"
            " before it does, and `eduadvocate publish` sends it",
        )
    header = [
        f"# The answer to inbox item {item_id} (by {row.item.author_handle}), written by"
        " `eduadvocate reply`.",
        "posts:",
        f"  - id: {post_id}",
        "    at: now",
        f"    accounts: [{yaml_string(row.item.account)}]",
        f"    reply_to: {yaml_string(target)}",
    ]
    if file is not None:
        body, user = _fields_of(file), ws.config.display(file.resolve())
    else:
        assert text is not None
        body, user = [f"text: {yaml_string(text)}"], None
    content = "\n".join(header + [INDENT + line if line else "" for line in body]) + "\n"
    problems, parts = _checked(ws, content, display, post_id)
    # Shown where the user wrote them: the --file's own lines, the text given, or (what reply
    # wrote itself: the address, the account) the item; the posts file is not written.
    problems = [_moved(p, display, len(header), user, item_id) for p in problems]
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ReplyInvalid(errors)
    return Reply(post_id, row, path, display, content, target, parts)


def yaml_string(value: str) -> str:
    """``value`` as a YAML double-quoted scalar that reads back as exactly ``value``: quotes,
    backslashes, control characters and what YAML reads as a line break (NEL, U+2028, U+2029)
    or drops (a BOM) escaped, everything else (emoji included) as it is."""
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or 0x7F <= code <= 0x9F or char in "\u2028\u2029\ufeff":
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def write(reply: Reply) -> None:
    """Write the answer's posts file; never over an existing one (``O_EXCL``): two runs at once
    cannot both write it."""
    reply.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(reply.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise UsageError(
            f"inbox item {reply.item.id} has an answer already: {reply.display}"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(reply.text)
        fh.flush()
        os.fsync(fh.fileno())


def _fields_of(file: Path) -> list[str]:
    """The lines of a ``--file``: a mapping of a post's fields (text, media, hashtags, …),
    read by the safe reader first so a file that is no such mapping is one error at its line."""
    shown = str(file)
    try:
        node = read_yaml(file, shown)
    except YamlFileError as exc:
        raise UsageError(f"{exc.location}: {exc.message}", hint=exc.hint) from None
    if node is None or node.kind != "map":
        raise UsageError(
            f"{shown}: a reply's file is a mapping of a post's fields",
            hint='e.g. text: "Thank you!" and media: [{path: media/a.png, alt: …}]',
        )
    for key in SET_HERE:
        if key in node.key_locs:
            raise UsageError(
                f"{node.key_locs[key]}: {key}: is set by `eduadvocate reply`, not in its file",
                hint=f"remove {key}: from {shown}",
            )
    lines = file.read_text(encoding="utf-8").splitlines()
    if lines and lines[0].strip() == "---":  # a document marker, which cannot be indented
        lines[0] = ""
    return lines


def _checked(
    ws: Workspace, content: str, display: str, post_id: str
) -> tuple[list[Problem], list[str]]:
    """The answer's problems, as ``check`` finds them with it in the campaign (read from a
    temporary file outside the posts folder)."""
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="eduadvocate-reply-") as folder:
        draft = Path(folder) / "reply.yaml"
        draft.write_text(content, encoding="utf-8")
        posts = load_file(draft, display, ws.config.defaults, platform_names(), problems)
    taken = {p.id for p in ws.campaign.posts}
    if any(p.id in taken for p in posts):
        raise UsageError(
            f'a post with the id "{post_id}" is in the campaign already',
            hint="answer the item from that post, or rename it",
        )
    campaign = replace(ws.campaign, posts=[*ws.campaign.posts, *posts], problems=problems)
    result = analyse(ws.config, campaign, ws.now, post_ids={post_id})
    found = [
        p
        for p in result.problems
        if p.post == post_id or (p.location is not None and p.location.file == display)
    ]
    return found, [part.text for r in result.renderings for part in r.parts]


def _moved(problem: Problem, display: str, header: int, user: str | None, item_id: int) -> Problem:
    """A problem of the unwritten posts file, moved to where its cause was written: the
    --file ``user`` (its own line and column), the reply's text, or (the ``header`` lines reply
    wrote itself: the address, the account) the inbox item."""
    loc = problem.location
    if loc is None or loc.file != display:
        return problem
    if loc.line <= header:
        return replace(problem, location=Location(f"inbox item {item_id}"))
    if user is None:
        return replace(problem, location=Location("the reply's text"))
    column = max(1, loc.column - len(INDENT)) if loc.column else 0
    return replace(problem, location=Location(user, loc.line - header, column))


class ReplyInvalid(PostsInvalid):
    """A reply with errors: every one of them on one line (``check`` cannot show them, since
    the reply is not written)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        first, *others = problems
        text = first.one_line(severity=False)
        if others:
            text += "; and " + "; ".join(p.one_line(severity=False) for p in others)
        self.args = (text,)
        self.message = text
