"""Output that needs no Rich: JSON for machines (:func:`print_json`, :func:`problem_dict`),
GitHub workflow annotations, and the words of check's summary line. ``check --format json`` and
``--format github`` print through this module alone, so they do not import Rich (~30 ms of the
command's start-up); :mod:`eduadvocate.cli.output` draws the tables and re-exports these.
"""

from __future__ import annotations

import json
import sys
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from eduadvocate.core.errors import Problem
from eduadvocate.core.words import plural

JSON_VERSION = 1


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
    sys.stdout.write(dumps(data) + "\n")


def dumps(data: Any) -> str:
    """Exactly ``json.dumps(data, indent=2, ensure_ascii=False)``, made faster: with an indent,
    that runs the pure-Python encoder (the C one takes none in this Python), ~35 ms for check's
    4,434 problems in bench/check_speed.py against ~12 ms compact. Here each container whose
    items are all scalars (a problem's dict) is encoded in one call of the C encoder, its item
    separator carrying the newline and indentation; only the containers above those are walked
    in Python. Anything this does not cover (a key that is not a ``str`` in a nested dict, a
    value of another type, a cycle) is left to ``json.dumps`` whole, so its errors are its own.
    (A newline in the C encoder's text can only be a separator's: it escapes every one in a
    string.)"""
    chunks: list[str] = []
    if not _indented(data, 0, chunks, set()):
        return json.dumps(data, indent=2, ensure_ascii=False)
    return "".join(chunks)


_SCALARS = (str, int, float, type(None))  # (bool is an int)


def _fail(o: Any) -> Any:
    raise TypeError  # (never: the C encoder is only given scalars)


def _encoder(separator: str) -> Any:
    """The C encoder of ``json.dumps(..., ensure_ascii=False)`` with ``separator`` between
    items (arguments as ``JSONEncoder.iterencode`` gives them, but no cycle markers)."""
    return c_make_encoder(None, _fail, encode_basestring, None, ": ", separator, False, False, True)


_COMPACT = _encoder(", ")
_FLAT: dict[int, Any] = {}  # the C encoder for the items of a container at each depth


def _indented(o: Any, depth: int, out: list[str], path: set[int]) -> bool:
    """Appends ``o`` at ``depth`` (its first line already indented) to ``out``; False (``out``
    then unfinished) where :func:`dumps` leaves it to ``json.dumps``."""
    if isinstance(o, _SCALARS):
        out.extend(_COMPACT(o, 0))
        return True
    is_dict = isinstance(o, dict)
    if not (is_dict or isinstance(o, list | tuple)):
        return False
    if not o:
        out.append("{}" if is_dict else "[]")
        return True
    inner = "\n" + "  " * (depth + 1)
    close = "\n" + "  " * depth + ("}" if is_dict else "]")
    values = o.values() if is_dict else o
    if all(isinstance(v, _SCALARS) for v in values):
        flat = _FLAT.get(depth)
        if flat is None:
            flat = _FLAT[depth] = _encoder("," + inner)
        text = "".join(flat(o, 0))
        out.append(text[0] + inner + text[1:-1] + close)
        return True
    if id(o) in path:
        return False
    path.add(id(o))
    out.append("{" if is_dict else "[")
    separator = inner
    if is_dict:
        for key, value in o.items():
            if not isinstance(key, str):
                return False
            out.append(separator + encode_basestring(key) + ": ")
            if not _indented(value, depth + 1, out, path):
                return False
            separator = "," + inner
    else:
        for value in o:
            out.append(separator)
            if not _indented(value, depth + 1, out, path):
                return False
            separator = "," + inner
    out.append(close)
    path.discard(id(o))
    return True


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


def summary(errors: int, warnings: int, posts: int, deliveries: int, files: int) -> tuple[str, str]:
    """Check's summary line as its mark (``✗ `` or ``✓ ``) and its words."""
    counts = f"{plural(posts, 'post')}, {plural(deliveries, 'delivery')} in {plural(files, 'file')}"
    if errors:
        return "✗ ", f"{plural(errors, 'error')}, {plural(warnings, 'warning')} ({counts})"
    if warnings:
        return "✓ ", f"no errors, {plural(warnings, 'warning')} ({counts})"
    return "✓ ", f"no problems ({counts})"
