"""``eduadvocate reply ITEM``: answer an inbox item. The answer is checked, written into the posts
folder (delivery/reply.py) and published through ``publish``'s own path, for that post alone."""

from __future__ import annotations

from pathlib import Path

from eduadvocate.cli import output
from eduadvocate.cli.publishing import _ledger, publish
from eduadvocate.cli.runtime import Runtime
from eduadvocate.core.errors import ExitCode
from eduadvocate.ledger.base import State


def reply(
    config_path: str | None,
    item_id: int,
    text: str | None,
    file: str | None,
    dry_run: bool,
    fmt: str,
    runtime: Runtime,
) -> int:
    from eduadvocate.delivery import reply as answering

    ws, ledger = _ledger(config_path, runtime.clock)
    try:
        prepared = answering.prepare(ws, ledger, item_id, text, Path(file) if file else None)
    finally:
        ledger.close()
    account = prepared.item.item.account
    if dry_run:
        con = output.console()
        con.print(
            f"Would write {prepared.display} and publish it on {account}, in reply to"
            f" {prepared.target}:",
            soft_wrap=True,
            markup=False,
        )
        for n, part in enumerate(prepared.parts, 1):
            head = f"[{n}/{len(prepared.parts)}] " if len(prepared.parts) > 1 else ""
            con.print(head + part, soft_wrap=True, markup=False, highlight=False)
        return ExitCode.OK
    answering.write(prepared)
    said = f"Wrote {prepared.display}: the answer to inbox item {item_id}, on {account}."
    output.console(stderr=fmt == "json").print(said, soft_wrap=True, markup=False)
    status = publish(config_path, [account], False, fmt, runtime, posts={prepared.post_id})
    _handled(config_path, runtime, prepared.post_id, account, item_id)
    return status


def _handled(
    config_path: str | None, runtime: Runtime, post_id: str, account: str, item_id: int
) -> None:
    """The item is handled once its answer is published. The dispatcher marks it right after
    recording the delivery; this covers a run that stopped in between."""
    ws, ledger = _ledger(config_path, runtime.clock)
    try:
        sent = [
            d
            for d in ledger.deliveries(post_id=post_id)
            if d.account == account and d.state == State.PUBLISHED
        ]
        if sent:
            ledger.mark_handled([item_id], ws.now, f"reply {post_id}")
    finally:
        ledger.close()
