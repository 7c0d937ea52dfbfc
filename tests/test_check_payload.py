"""What check's children send back is only what the parent needs (compose/check.py
``_share_in_child``): their posts' places as numbers, made Locations only when a later post uses
the same id (``_first_uses_in``), and a post's place for the duplicate-text rule only when it has
a text to compare. The JSON is byte for byte that of reading the whole campaign first, for ids
used again in the same file, in a later file of the same child, in another child's file, and in
the parent's, once or more (tests/test_check_loadsplit.py draws campaigns at random; this sweep
is each of those ways in turn)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eduadvocate.cli import commands
from tests.test_check_loadsplit import TWIN_CONFIG, _check_json, _spread, _today
from tests.test_fuzz_campaign import _write_campaign


def _file(ids: str, index: int) -> str:
    """A posts file of one post per letter of ``ids``, each with a text of its own, but for two
    posts said alike (the duplicate-text rule, which needs where their texts start)."""
    lines = ["posts:"]
    for n, post_id in enumerate(ids):
        text = "Said twice word for word" if (index, n) in ((1, 0), (3, 0)) else f"Post {index}.{n}"
        account = "x2" if (index, n) == (3, 0) else "x1"  # (two of one platform: the rule's)
        lines.append(
            f"  - {{id: {post_id}, at: 2027-01-04 09:00, accounts: [{account}], text: {text}}}"
        )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("layout", "processes"),
    [
        (["a", "b", "c", "c"], 2),  # a later file of the same child
        (["a", "b", "c", "d", "c", "e"], 3),  # another child's file
        (["a", "b", "cc", "d"], 2),  # the same file, in a child
        (["a", "b", "a", "d"], 2),  # the parent's
        (["a", "b", "c", "c", "c", "d"], 2),  # twice more
        (["ab", "cd", "ef", "gh", "ca", "eh"], 3),  # the parent's and another child's, one file
        (["a", "b", "c", "d", "e", "f"], 3),  # no id used twice
    ],
    ids=lambda v: "-".join(v) if isinstance(v, list) else str(v),
)
def test_ids_used_again_are_reported_as_reading_the_whole_campaign_does(
    tmp_path: Path, layout: list[str], processes: int
) -> None:
    files = [_file(ids, index) for index, ids in enumerate(layout)]
    root = _write_campaign(tmp_path, TWIN_CONFIG, "{}\n", files)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(commands, "analyse_folder", _today)
        before = _check_json(root)
    with _spread(processes) as shares:
        after = _check_json(root)
    assert shares == [processes]
    assert after == before
    used_again = len(set("".join(layout))) < len("".join(layout))
    assert ("duplicate-id" in before[1]) == used_again
    if not used_again:  # (else the second of the texts may be a post left out)
        assert "duplicate-text" in before[1]
