"""Turning results into output: Rich tables for people, JSON for machines, GitHub workflow
annotations for CI. Builders return data or renderables; printing happens at the edge.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from eduadvocate.core.errors import Problem

JSON_VERSION = 1


def console(stderr: bool = False) -> Console:
    """A console that honours NO_COLOR and COLUMNS, and does not guess a width in pipes.
    Markup is off: what it prints comes from campaign files and platforms' answers (a post text
    of ``[link=…]`` must print as written); styles are given with ``Text`` instead."""
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    return Console(stderr=stderr, highlight=False, markup=False, width=width, soft_wrap=False)


def problem_dict(p: Problem) -> dict[str, Any]:
    loc = p.location
    return {
        "file": loc.file if loc else None,
        "line": loc.line if loc and loc.line else None,
        "column": loc.column if loc and loc.column else None,
        "post": p.post,
        "account": p.account,
        "code": p.code,
        "severity": p.severity,
        "message": p.message,
        "hint": p.hint or None,
    }


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def problems_table(problems: list[Problem]) -> Table:
    table = Table(show_lines=False, expand=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("Where", no_wrap=True)
    table.add_column("Post")
    table.add_column("Account")
    table.add_column("Problem")
    table.add_column("What to do")
    for p in problems:
        style = "red" if p.severity == "error" else "yellow"
        table.add_row(
            str(p.location) if p.location else "",
            p.post or "",
            p.account or "",
            Text.assemble((f"{p.severity} ", style), (p.code, "dim"), "\n", p.message),
            p.hint,
        )
    return table


def github_annotation(p: Problem) -> str:
    """One ``::error``/``::warning`` workflow command (values escaped as GitHub requires)."""
    props = []
    if p.location:
        props.append(f"file={_prop(p.location.file)}")
        if p.location.line:
            props.append(f"line={p.location.line}")
        if p.location.column:
            props.append(f"col={p.location.column}")
    props.append(f"title={_prop(p.code)}")
    who = ", ".join(
        x
        for x in (f"post {p.post}" if p.post else "", f"account {p.account}" if p.account else "")
        if x
    )
    message = p.message + (f" ({who})" if who else "") + (f". {p.hint}" if p.hint else "")
    return f"::{p.severity} {','.join(props)}::{_data(message)}"


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def summary_line(errors: int, warnings: int, posts: int, deliveries: int, files: int) -> Text:
    counts = f"{posts} post{'s' if posts != 1 else ''}, {deliveries} deliver{'ies' if deliveries != 1 else 'y'} in {files} file{'s' if files != 1 else ''}"
    if errors:
        return Text.assemble(
            ("✗ ", "red bold"),
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''} ({counts})",
        )
    if warnings:
        return Text.assemble(
            ("✓ ", "green bold"),
            f"no errors, {warnings} warning{'s' if warnings != 1 else ''} ({counts})",
        )
    return Text.assemble(("✓ ", "green bold"), f"no problems ({counts})")
