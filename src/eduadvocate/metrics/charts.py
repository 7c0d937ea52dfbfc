"""The report's charts as inline SVG, each drawn twice: ``wide`` for a laptop and ``narrow`` for
a phone (reflowed, not shrunk: a label above its bar, the heat map turned a quarter, a row a day),
so their labels are drawn near their own size on either screen; the page's stylesheet shows the
one that fits (:mod:`eduadvocate.metrics.html`). A label is wrapped onto more lines, never cut.
Every chart prints its numbers and has a title and a description for screen readers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, timedelta
from html import escape

from eduadvocate.core import words
from eduadvocate.metrics.report import WEEKDAYS, Cell, Group

BAR = "#2f6db5"
POSTS_BAR = "#8796aa"
EMPTY = "#ececec"
LOW, HIGH = (222, 235, 247), (8, 69, 148)  # the heat map's scale, light to dark blue


def bars(groups: list[Group], what: str) -> str:
    """Engagement per post of each group (platform, hashtag) as horizontal bars."""
    title, desc = f"Engagement per post by {what}", "; ".join(_summary(g) for g in groups)
    peak = max((g.per_post for g in groups), default=0.0) or 1.0
    values = [f"{dec(g.per_post)} per post · {plural(g.posts, 'post')}" for g in groups]
    # Wide: the label left of its bar, wrapped (never cut) to the label column's width.
    width, left, right = 900, 210, 190
    wide, y = [], 4
    for g, value in zip(groups, values, strict=True):
        lines = wrap(g.key, left - 16, 13)
        row = max(30, 16 * len(lines) + 14)
        mid = y + row / 2
        w = max(g.per_post / peak * (width - left - right), 2)
        wide.append(
            f"<g><title>{escape(_summary(g))}</title>"
            f"{_text(left - 10, mid + 5 - 8 * (len(lines) - 1), lines, 'end')}"
            f'<rect x="{left}" y="{mid - 10:.0f}" width="{w:.1f}" height="20" rx="3" fill="{BAR}"/>'
            f'<text class="v" x="{left + w + 8:.1f}" y="{mid + 5:.0f}">{value}</text></g>'
        )
        y += row
    wide_height = y + 4
    # Narrow: the label on its own lines, its bar and numbers below it.
    n_width = 340
    room = n_width - 8 - max(text_width(v, 12) for v in values)
    narrow, y = [], 0
    for g, value in zip(groups, values, strict=True):
        lines = wrap(g.key, n_width - 4, 13)
        w = max(g.per_post / peak * room, 2)
        base = y + 16 * len(lines)
        narrow.append(
            f"<g><title>{escape(_summary(g))}</title>{_text(0, y + 13, lines)}"
            f'<rect x="0" y="{base + 2}" width="{w:.1f}" height="16" rx="3" fill="{BAR}"/>'
            f'<text class="v" x="{w + 6:.1f}" y="{base + 15}" font-size="12">{value}</text></g>'
        )
        y = base + 28
    return _svg(width, wide_height, title, desc, wide, "wide") + _svg(
        n_width, y - 8, title, desc, narrow, "narrow"
    )


def heatmap(cells: list[Cell]) -> str:
    """Engagement per post by weekday and hour, as shaded cells that print their number."""
    at = {(c.weekday, c.hour): c for c in cells}
    peak = max((c.per_post for c in cells), default=0.0)
    title = "Engagement per post by weekday and hour"
    desc = (
        f"{len(cells)} weekday-hour cells with posts; the best is {dec(peak)} engagement per post."
    )

    def cell(d: int, h: int, x: float, y: float, w: float, high: float, size: int) -> str:
        found = at.get((d, h))
        box = f'<rect x="{x + 1}" y="{y + 1}" width="{w - 2}" height="{high - 2}"'
        if found is None:
            return f'{box} fill="{EMPTY}"/>'
        share = found.per_post / peak if peak else 0.0
        tip = (
            f"{WEEKDAYS[d]} {h:02d}:00–{h:02d}:59: {plural(found.posts, 'post')}, "
            f"{count(found.engagement)} engagement, {dec(found.per_post)} per post"
        )
        dark = ' class="on-dark"' if share > 0.55 else ""
        return (
            f'<g><title>{tip}</title>{box} fill="{_shade(share)}"/>'
            f'<text x="{x + w / 2:.0f}" y="{y + high / 2 + 4:.0f}" text-anchor="middle" '
            f'font-size="{size}"{dark}>{_compact(found.per_post)}</text></g>'
        )

    def legend(x: float, y: float, swatch: int, gap: float) -> list[str]:
        out = [f'<text class="v" x="{x}" y="{y + 13}">Per post: 0</text>']
        out += [
            f'<rect x="{x + 80 + i * swatch}" y="{y}" width="{swatch}" height="16" fill="{_shade(i / 7)}"/>'
            for i in range(8)
        ]
        out.append(f'<text class="v" x="{x + 88 + 8 * swatch}" y="{y + 13}">{dec(peak)}</text>')
        gx, gy = (x + 160 + 8 * swatch, y) if gap else (x, y + 24)
        out.append(f'<rect x="{gx}" y="{gy}" width="{swatch}" height="16" fill="{EMPTY}"/>')
        out.append(f'<text class="v" x="{gx + swatch + 8}" y="{gy + 13}">no posts</text>')
        return out

    # Wide: a weekday a row, an hour a column.
    cw, ch, left, top = 36, 28, 48, 24
    width, ly = left + 24 * cw + 4, top + 7 * ch + 18
    wide = [
        f'<text class="v" x="{left + h * cw + cw / 2:.0f}" y="{top - 8}" text-anchor="middle">{h}</text>'
        for h in range(24)
    ]
    for d, name in enumerate(WEEKDAYS):
        y = top + d * ch
        wide.append(
            f'<text x="{left - 10}" y="{y + ch / 2 + 5:.0f}" text-anchor="end">{name}</text>'
        )
        wide += [cell(d, h, left + h * cw, y, cw, ch, 11) for h in range(24)]
    wide += legend(left, ly, 26, 1)
    wide.append(
        f'<text class="v" x="{width - 4}" y="{ly + 13}" text-anchor="end">hour of day →</text>'
    )
    # Narrow: turned a quarter, an hour a row and a weekday a column, to fit a phone.
    cw, ch, left, top = 42, 22, 40, 22
    n_width, n_ly = left + 7 * cw + 4, top + 24 * ch + 14
    narrow = [f'<text class="v" x="0" y="{top - 7}" font-size="12">hour</text>']
    narrow += [
        f'<text x="{left + d * cw + cw / 2:.0f}" y="{top - 7}" text-anchor="middle">{name}</text>'
        for d, name in enumerate(WEEKDAYS)
    ]
    for h in range(24):
        y = top + h * ch
        narrow.append(
            f'<text class="v" x="{left - 8}" y="{y + ch / 2 + 5:.0f}" text-anchor="end">{h}</text>'
        )
        narrow += [cell(d, h, left + d * cw, y, cw, ch, 12) for d in range(7)]
    narrow += legend(0, n_ly, 18, 0)
    return _svg(width, ly + 24, title, desc, wide, "wide") + _svg(
        n_width, n_ly + 44, title, desc, narrow, "narrow"
    )


def timeline(groups: list[Group], zone: str) -> str:
    """Engagement and posts on each day from the first to the last (a day without posts shows 0)."""
    if not groups:
        return '<p class="meta">No days to show.</p>'
    known = {g.key: (g.engagement, g.posts) for g in groups}
    first, last = date.fromisoformat(groups[0].key), date.fromisoformat(groups[-1].key)
    days = [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]
    peak_e = max(e for e, _ in known.values()) or 1
    peak_p = max(p for _, p in known.values()) or 1
    title = f"Engagement and posts per day ({zone})"
    desc = "; ".join(
        f"{g.key}: {g.engagement} engagement, {plural(g.posts, 'post')}" for g in groups
    )
    # Wide: a column a day, engagement above and posts below one axis.
    width, left, right, top, tall, short = 900, 110, 16, 22, 150, 50
    slot = (width - left - right) / len(days)
    bar = min(slot * 0.7, 56)
    base, posts_base = top + tall, top + tall + 16 + short
    labels, every = len(days) <= 31, math.ceil(len(days) / 14)
    wide = [
        f'<text class="v" x="{left - 12}" y="{top + tall / 2:.0f}" text-anchor="end">engagement</text>',
        f'<text class="v" x="{left - 12}" y="{posts_base - short / 2 + 4:.0f}" text-anchor="end">posts</text>',
        f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#b8c0cc"/>',
        f'<line x1="{left}" x2="{width - right}" y1="{top + 18}" y2="{top + 18}" stroke="#e3e7ed" stroke-dasharray="4 4"/>',
        f'<text class="v" x="{left - 6}" y="{top + 22}" text-anchor="end" font-size="11">{count(peak_e)}</text>',
        f'<line x1="{left}" x2="{width - right}" y1="{posts_base}" y2="{posts_base}" stroke="#b8c0cc"/>',
    ]
    for i, day in enumerate(days):
        engagement, posts = known.get(day, (0, 0))
        cx = left + slot * i + slot / 2
        he, hp = engagement / peak_e * (tall - 18), posts / peak_p * (short - 14)
        wide.append(
            f"<g><title>{day}: {count(engagement)} engagement, {plural(posts, 'post')}</title>"
            f'<rect x="{cx - bar / 2:.1f}" y="{base - he:.1f}" width="{bar:.1f}" height="{he:.1f}" fill="{BAR}"/>'
            f'<rect x="{cx - bar / 2:.1f}" y="{posts_base - hp:.1f}" width="{bar:.1f}" height="{hp:.1f}" fill="{POSTS_BAR}"/>'
        )
        if labels:
            size = 11 if slot >= 30 else 10
            wide.append(
                f'<text x="{cx:.1f}" y="{base - he - 4:.1f}" text-anchor="middle" font-size="{size}">{_compact(engagement)}</text>'
                f'<text x="{cx:.1f}" y="{posts_base - hp - 3:.1f}" text-anchor="middle" font-size="{size}">{posts}</text>'
            )
        if i % every == 0:
            wide.append(
                f'<text class="v" x="{cx:.1f}" y="{posts_base + 16}" text-anchor="middle">{_date(day)}</text>'
            )
        wide.append("</g>")
    wide.append(
        f'<text class="v" x="{(left + width - right) / 2:.0f}" y="{posts_base + 36}" '
        f'text-anchor="middle">day, in {escape(zone)}</text>'
    )
    # Narrow: a row a day, its engagement bar over its posts bar.
    n_width, left, row = 340, 60, 34
    room = n_width - left - 70
    narrow = [
        f'<rect x="0" y="2" width="12" height="12" fill="{BAR}"/>'
        '<text x="18" y="13" font-size="12">engagement</text>'
        f'<rect x="104" y="2" width="12" height="12" fill="{POSTS_BAR}"/>'
        '<text x="122" y="13" font-size="12">posts</text>'
    ]
    y = 26
    for day in days:
        engagement, posts = known.get(day, (0, 0))
        we, wp = engagement / peak_e * room, posts / peak_p * room
        narrow.append(
            f"<g><title>{day}: {count(engagement)} engagement, {plural(posts, 'post')}</title>"
            f'<text class="v" x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">{_date(day)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{we:.1f}" height="13" fill="{BAR}"/>'
            f'<text x="{left + we + 5:.1f}" y="{y + 13}" font-size="12">{count(engagement)}</text>'
            f'<rect x="{left}" y="{y + 17}" width="{wp:.1f}" height="10" fill="{POSTS_BAR}"/>'
            f'<text x="{left + wp + 5:.1f}" y="{y + 27}" font-size="12">{posts}</text></g>'
        )
        y += row
    lines = wrap(f"day, in {zone}", n_width, 12)
    narrow.append(_text(0, y + 12, lines, size=12, cls="v"))
    return _svg(width, posts_base + 44, title, desc, wide, "wide") + _svg(
        n_width, y + 16 * len(lines), title, desc, narrow, "narrow"
    )


def _svg(width: float, height: float, title: str, desc: str, body: list[str], shape: str) -> str:
    # Each chart is drawn twice, "wide" for a laptop and "narrow" (reflowed) for a phone; the
    # stylesheet shows one, so its labels are drawn near their own size on either screen.
    return (
        f'<svg class="{shape}" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"<desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def _text(
    x: float, y: float, lines: list[str], anchor: str = "start", size: int = 0, cls: str = ""
) -> str:
    """One label on its lines (their text joined is the label: a line keeps its trailing space)."""
    spans = "".join(
        f'<tspan x="{x:.0f}" dy="{0 if i == 0 else 16}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    extra = (f' font-size="{size}"' if size else "") + (f' class="{cls}"' if cls else "")
    return f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}"{extra}>{spans}</text>'


def wrap(label: str, room: float, size: int) -> list[str]:
    """``label`` broken into lines no wider than ``room`` user units at font ``size``: between
    words where it can, inside a word (a long hashtag) where it must; nothing is left out."""
    out, line = [], ""
    for word in re.findall(r"\S+\s*", " ".join(label.split())):
        if not line or text_width(line + word.rstrip(), size) <= room:
            line += word
            continue
        out.append(line)
        line = word
    if line:
        out.append(line)
    broken = []
    for line in out:  # a word wider than the room on its own: cut it into pieces that fit
        piece = ""
        for ch in line:
            if piece.strip() and text_width(piece + ch, size) > room and not ch.isspace():
                broken.append(piece)
                piece = ""
            piece += ch
        broken.append(piece)
    return broken or [""]


def text_width(text: str, size: int) -> float:
    """A generous guess at how wide ``text`` is drawn in a sans-serif font of ``size``."""
    em = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            em += 1.0
        elif ch in "mwMW@%":
            em += 0.9
        elif ch.isupper() or ch.isdigit() or ch == "#":
            em += 0.68
        elif ch in "fijlrt.,:;!|' ":
            em += 0.34
        else:
            em += 0.56
    return em * size * 1.15  # fonts differ from one system to the next: err on the wide side


def _shade(share: float) -> str:
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(LOW, HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _summary(g: Group) -> str:
    return f"{g.key}: {dec(g.per_post)} per post, {plural(g.posts, 'post')}, {count(g.engagement)} engagement"


def _date(iso_day: str) -> str:
    d = date.fromisoformat(iso_day)
    return f"{d:%b} {d.day}"


def _compact(x: float) -> str:
    if x >= 10_000:
        return f"{x / 1000:.0f}k"
    if x >= 1000:
        return f"{x / 1000:.1f}k"
    return f"{x:.0f}" if x >= 100 or x == int(x) else f"{x:.1f}"


def plural(n: int, noun: str) -> str:
    """``1 post``, ``1,200 posts``."""
    return words.plural(n, noun, thousands=True)


def count(n: int) -> str:
    """A whole number with thousands separators."""
    return f"{n:,}"


def dec(x: float) -> str:
    """A number with one decimal and thousands separators."""
    return f"{x:,.1f}"
