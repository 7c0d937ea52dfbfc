"""Turning results into output: Rich tables for people, and (from :mod:`eduadvocate.cli.plain`,
which imports no Rich) JSON for machines and GitHub workflow annotations for CI. Builders return
data or renderables; printing happens at the edge.

Every text table goes through :func:`tabulate`, which decides its layout from the width: a
table when every column gets its least readable width, else one block per item (the short
fields on a first line, each long one on its own indented line). Nothing is cut with "…" and no
word, id or URL is broken: one too long for the line runs past the edge instead, so that it can
still be clicked and copied. The console wraps every line it prints the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from eduadvocate.cli import plain
from eduadvocate.core.errors import Problem

# (here too: the commands that draw tables print their JSON through this module)
JSON_VERSION = plain.JSON_VERSION
print_json = plain.print_json
problem_dict = plain.problem_dict
github_annotation = plain.github_annotation

# The narrowest a column of prose may be: narrower, it reads a word or two a line.
PROSE = 24
# Between two columns of a table (Rich's padding of one either side), and before the long
# fields of a block.
GAP = 2
INDENT = "  "

Cell = str | Text


@dataclass(frozen=True)
class Laid:
    """Lines already laid out for the width (:func:`blocks`, :func:`boxed`): printed as they
    are, neither wrapped again (a label would part from its value) nor cropped."""

    text: Text

    def __rich__(self) -> Text:
        return self.text


class _Console(Console):
    """Rich's console, except that a line of text too long for the width wraps at spaces only:
    a word, id or URL longer than the line runs past the edge whole instead of being folded in
    two (a URL split across lines can be neither clicked nor copied)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if len(objects) == 1 and isinstance(objects[0], Laid):
            objects = (objects[0].text,)
            kwargs["soft_wrap"] = True
        elif (
            len(objects) == 1 and isinstance(objects[0], str | Text) and not kwargs.get("soft_wrap")
        ):
            text = objects[0] if isinstance(objects[0], Text) else Text(objects[0])
            objects = (Text("\n").join(wrap(text, self.width)),)
            kwargs["soft_wrap"] = True
        super().print(*objects, **kwargs)


def console(stderr: bool = False) -> Console:
    """A console that honours NO_COLOR and COLUMNS, and does not guess a width in pipes.
    Markup and emoji codes are off: what it prints comes from campaign files and platforms'
    answers (a post text of ``[link=…]`` or a hint of ``:a:`` must print as written); styles
    are given with ``Text`` instead."""
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    return _Console(
        stderr=stderr, highlight=False, markup=False, emoji=False, width=width, soft_wrap=False
    )


_WORD = re.compile(r"\S+")


def wrap(text: Text, width: int, indent: str = "") -> list[Text]:
    """``text`` in lines of at most ``width`` cells (``indent`` included), broken only at spaces;
    a word longer than a line gets a line of its own, whole. A line's own leading spaces stay."""
    lines: list[Text] = []
    for para in text.split("\n", allow_blank=True):
        plain = para.plain
        words = [(m.start(), m.end()) for m in _WORD.finditer(plain)]
        if not words:
            lines.append(Text(indent))
            continue
        start, end = 0, words[0][1]  # the first line keeps the paragraph's own indentation
        for w_start, w_end in words[1:]:
            if cell_len(indent) + cell_len(plain[start:w_end]) > width:
                lines.append(Text(indent) + para[start:end])
                start = w_start
            end = w_end
        lines.append(Text(indent) + para[start:end])
    return lines


@dataclass(frozen=True)
class Column:
    """One column of :func:`tabulate`. ``wrap``: prose that may wrap at spaces (a message, a
    hint); otherwise the value stays on one line (ids, times, numbers, URLs). In a block, the
    wrapped columns and those marked ``own_line`` get an indented line each, ``label`` is said
    before the value (the header is not shown), and a cell's lines are joined by ``join``."""

    header: str
    wrap: bool = False
    min_width: int = PROSE
    own_line: bool = False
    label: str = ""
    join: str | None = None
    justify: JustifyMethod = "left"
    style: str = ""

    @property
    def in_block_head(self) -> bool:
        return not (self.wrap or self.own_line)


def _longest_line(cell: Cell) -> int:
    return max((cell_len(line) for line in str(cell).split("\n")), default=0)


def _longest_word(cell: Cell) -> int:
    return max((cell_len(word) for word in str(cell).split()), default=0)


def fit(
    columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int, header: bool = True
) -> list[int] | None:
    """The width of each column of a table ``width`` cells wide, or None when it does not fit:
    the rule every table follows. A column on one line needs its longest value; a column of
    prose needs its longest word and at least its ``min_width`` (or its longest value, if
    shorter). What is left goes to the prose, up to its longest value."""
    most, least = [], []
    for index, column in enumerate(columns):
        cells: list[Cell] = [row[index] for row in rows]
        if header:
            cells.append(column.header)
        longest = max((_longest_line(c) for c in cells), default=0)
        most.append(longest)
        if column.wrap:
            word = max((_longest_word(c) for c in cells), default=0)
            least.append(min(longest, max(word, column.min_width)))
        else:
            least.append(longest)
    gaps = GAP * (len(columns) - 1)
    if sum(least) + gaps > width:
        return None
    widths = list(least)
    spare = width - gaps - sum(widths)
    wanted = [m - w for m, w in zip(most, widths, strict=True)]
    total = sum(wanted)
    if total:
        for index, want in enumerate(wanted):
            widths[index] += min(want, spare * want // total)
    return widths


def tabulate(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    width: int,
    *,
    header: bool = True,
) -> Table | Laid:
    """A table if it fits in ``width`` (:func:`fit`), else the rows as blocks (:func:`blocks`).
    A column empty in every row is left out of the table: it would take room for a header."""
    kept = [i for i in range(len(columns)) if not rows or any(str(r[i]).strip() for r in rows)]
    columns = [columns[i] for i in kept]
    rows = [[row[i] for i in kept] for row in rows]
    widths = fit(columns, rows, width, header)
    if widths is None:
        return blocks(columns, rows, width)
    table = Table(box=None, pad_edge=False, header_style="bold", show_header=header)
    for column, size in zip(columns, widths, strict=True):
        table.add_column(
            column.header,
            width=size,
            no_wrap=not column.wrap,
            justify=column.justify,
            style=column.style or None,
        )
    for row in rows:
        # Text, not str: a str cell would be read for emoji codes (a hint of ``:a:``).
        table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))
    return table


def blocks(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int) -> Laid:
    """Each row as a block: its one-line fields on a first line, two spaces apart (and on as
    many lines as they need, never broken inside a field), then each long field on its own
    indented line, wrapped at spaces."""
    lines: list[Text] = []
    for row in rows:
        head: list[Text] = []
        body: list[tuple[str, Text]] = []
        for column, cell in zip(columns, row, strict=True):
            text = cell.copy() if isinstance(cell, Text) else Text(cell)
            if not text.plain.strip():
                continue
            if column.style:
                text.stylize(column.style)
            if column.join is not None:
                text = Text(column.join).join(text.split("\n"))
            if column.in_block_head:
                head.append(Text(column.label + " ") + text if column.label else text)
            else:
                body.append((column.label, text))
        line = Text()
        for field in head:
            if line.plain and cell_len(line.plain) + GAP + cell_len(field.plain) > width:
                lines.append(line)
                line = Text()
            line = line + Text(" " * GAP) + field if line.plain else field
        if line.plain:
            lines.append(line)
        for label, text in body:
            # A label hangs before the text: its lines start under the text's first word.
            hang = " " * (cell_len(label) + 1) if label else ""
            wrapped = wrap(text, width, INDENT + hang)
            if label:
                wrapped[0] = Text(INDENT + label + " ") + wrapped[0][len(INDENT + hang) :]
            lines.extend(wrapped)
    return Laid(Text("\n").join(lines))


def boxed(text: Text, title: str | None, subtitle: Text, width: int) -> Panel | Laid:
    """A post's text in a box with its part number and length, if every word fits inside the
    box at ``width``; else the same without the box's sides, so that no word is broken."""
    inner = max((_longest_word(line) for line in text.plain.split("\n")), default=0)
    if inner + 4 <= width:
        return Panel(text, title=title, subtitle=subtitle, expand=False)
    heading = Text.assemble("── ", *((title, " ") if title else ()), subtitle, " ──")
    return Laid(Text("\n").join([heading, *wrap(text, width), Text("──")]))


PROBLEM_COLUMNS = (
    Column("Where"),
    Column("Post", label="post"),
    Column("Account"),
    Column("Problem", wrap=True, join=": "),
    Column("What to do", wrap=True, label="→"),
)


def problems_table(problems: list[Problem], width: int) -> Table | Laid:
    """The problems ``check`` found: a table, or at a narrow width one block each
    (``posts/march.yaml:12  post budget-vote  x-main``, then the problem, then what to do)."""
    rows: list[list[Cell]] = []
    for p in problems:
        style = "red" if p.severity == "error" else "yellow"
        rows.append(
            [
                str(p.location) if p.location else "",
                p.post or "",
                p.account or "",
                Text.assemble((f"{p.severity} ", style), (p.code, "dim"), "\n", p.message),
                p.hint,
            ]
        )
    return tabulate(PROBLEM_COLUMNS, rows, width)


def summary_line(errors: int, warnings: int, posts: int, deliveries: int, files: int) -> Text:
    mark, words = plain.summary(errors, warnings, posts, deliveries, files)
    return Text.assemble((mark, "red bold" if errors else "green bold"), words)
