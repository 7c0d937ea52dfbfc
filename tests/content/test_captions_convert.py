"""WebVTT and SRT into each other (``content.captions``: Facebook takes SRT, Bluesky WebVTT): for
any cues, the converted file is one ``check`` accepts in the other form, with the same cues, the
same times and the same words."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduadvocate.content.captions import as_srt, as_webvtt, captions_problem

_words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1
).filter(lambda t: t.strip() and "-->" not in t and "<" not in t and ">" not in t)
_cue = st.tuples(
    st.integers(0, 99 * 3600_000),
    st.integers(1, 60_000),
    st.lists(_words.map(str.strip), min_size=1, max_size=3),
    st.booleans(),  # written with hours
    st.sampled_from(["", " line:90%", " align:start position:10%"]),
    st.sampled_from(["", "intro\n", "7\n"]),  # a cue identifier
    st.booleans(),  # a voice tag around the text
)


def _vtt_time(ms: int, hours: bool) -> str:
    h, rest = divmod(ms, 3600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}" if hours or h else f"{m:02d}:{s:02d}.{ms:03d}"


def _srt_time(ms: int) -> str:
    h, rest = divmod(ms, 3600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


@given(cues=st.lists(_cue, min_size=1, max_size=6), note=st.booleans())
def test_any_webvtt_becomes_srt_with_the_same_cues(
    tmp_path_factory: pytest.TempPathFactory,
    cues: list[tuple[int, int, list[str], bool, str, str, bool]],
    note: bool,
) -> None:
    blocks = ["WEBVTT - a talk"] + (["NOTE made by hand\nfor the board"] if note else [])
    expected = []
    for i, (start, length, lines, hours, settings, ident, voice) in enumerate(cues, 1):
        end = start + length
        text = [f"<v Ms. Rivera>{line}</v>" if voice else line for line in lines]
        timing = f"{_vtt_time(start, hours)} --> {_vtt_time(end, hours)}{settings}"
        blocks.append(ident + timing + "\n" + "\n".join(text))
        expected.append(f"{i}\n{_srt_time(start)} --> {_srt_time(end)}\n" + "\n".join(lines))
    srt = as_srt("\n\n".join(blocks) + "\n")
    assert srt == "\n\n".join(expected) + "\n"
    path = tmp_path_factory.mktemp("c") / "c.srt"
    path.write_text(srt, encoding="utf-8")
    assert captions_problem(path) is None
    back = as_webvtt(srt)
    path.write_text(back, encoding="utf-8")
    assert captions_problem(path) is None
    assert len(re.findall("-->", back)) == len(cues)


def test_an_srt_file_goes_to_facebook_as_it_is() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,000\nHi\n"
    assert as_srt("\ufeff" + srt) == srt
