"""``report --format html``: the report as one self-contained page.

Everything is inline (the CSS, and the charts, drawn here as SVG) and there is no script, so the
page opens offline, can be mailed or printed, and loads nothing from anywhere. Every string from
the files or a platform (post text, account names, hashtags, links) is escaped, and only http(s)
links become links. Charts print their numbers, so no reading depends on colour.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from eduadvocate.metrics.report import (
    RATE_MEANS,
    WEEKDAYS,
    Cell,
    Group,
    PostRow,
    Report,
    no_engagement_note,
)

HASHTAGS_SHOWN = 15
EXCERPT = 160
BAR = "#2f6db5"
POSTS_BAR = "#8796aa"
EMPTY = "#ececec"
LOW, HIGH = (222, 235, 247), (8, 69, 148)  # the heat map's scale, light to dark blue
COUNT_COLUMNS = (
    ("likes", "Likes"),
    ("reposts", "Reposts"),
    ("replies", "Replies"),
    ("quotes", "Quotes"),
    ("saves", "Saves"),
    ("impressions", "Impr."),
    ("reach", "Reach"),
)

CSS = """
:root{color-scheme:light;--ink:#1f2933;--muted:#5f6b7a;--line:#e3e7ed;--card:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--ink);overflow-wrap:break-word;
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:32px 24px 48px}
h1{font-size:1.7rem;margin:0 0 4px}
h2{font-size:1.15rem;margin:0 0 10px}
h1,h2,.meta,.text,figcaption,td.t,td.a{overflow-wrap:anywhere}
a{color:#1d5fa8}
.meta{color:var(--muted);margin:0}
section{margin-top:32px}
.totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:20px 0 0}
.totals div{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.totals dt{color:var(--muted);font-size:.78rem;text-transform:uppercase;letter-spacing:.04em}
.totals dd{margin:0;font-size:1.45rem;font-weight:600;font-variant-numeric:tabular-nums}
.note{background:#fff8e1;border:1px solid #efd38a;border-radius:8px;padding:10px 14px;margin:16px 0 0}
figure{margin:0;padding:16px;border:1px solid var(--line);border-radius:8px;break-inside:avoid}
figcaption{color:var(--muted);font-size:.85rem;margin-top:8px}
svg{display:block;width:100%;height:auto;font-family:inherit;font-size:13px}
svg text{fill:var(--ink)} svg .v{fill:var(--muted)} svg .on-dark{fill:#fff}
svg.narrow{display:none;max-width:560px}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px}
ol.posts{list-style:none;padding:0;margin:0}
ol.posts li{border-top:1px solid var(--line);padding:10px 0}
.text{margin:0 0 4px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.82rem}
caption{text-align:left;color:var(--muted);padding-bottom:6px}
th,td{padding:6px 5px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--card)}
.n{text-align:right}
.n,.d{font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{min-width:10rem}
td.t strong{display:block}
code{background:var(--card);border:1px solid var(--line);padding:0 5px;border-radius:4px}
.empty{padding:24px;border:1px dashed #c5ccd6;border-radius:8px;background:var(--card)}
@media (max-width:899px){svg.wide{display:none}svg.narrow{display:block}}
@media (max-width:720px){.cols{grid-template-columns:minmax(0,1fr)}}
@media (max-width:600px){main{padding:20px 12px 32px}figure{padding:8px}
h1{font-size:1.4rem}.totals{grid-template-columns:repeat(auto-fit,minmax(140px,1fr))}}
@media (max-width:999px){#posts-table thead{display:none}
#posts-table,#posts-table tbody,#posts-table tr,#posts-table td{display:block}
#posts-table tbody{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
#posts-table tr{border:1px solid var(--line);border-radius:8px;padding:6px 10px}
#posts-table td{position:relative;border:0;padding:2px 0 2px 42%;min-width:0;text-align:left}
#posts-table td::before{content:attr(data-label);position:absolute;left:0;width:40%;
color:var(--muted)}
#posts-table td.t{padding:4px 0 6px;border-bottom:1px solid var(--line);margin-bottom:4px}
#posts-table td.t::before{content:none}}
@media print{main{max-width:none;padding:0}.table-wrap{overflow:visible}
section{break-inside:avoid-page}a{color:inherit}}
"""
# The page may load nothing and run nothing; only this stylesheet applies (by its hash).
CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    + "'; base-uri 'none'; form-action 'none'"
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


def render_html(report: Report) -> str:
    """The whole page for ``report`` as text; writing it somewhere is the caller's business."""
    zone = ZoneInfo(report.timezone)
    title = f"Engagement report: {report.campaign}" if report.campaign else "Engagement report"
    body = [_header(report, zone, title)]
    if not report.posts:
        body.append(_nothing(report))
    else:
        tags = report.by_hashtag[:HASHTAGS_SHOWN]
        more = len(report.by_hashtag) - len(tags)
        body += [
            _chart(
                "chart-platform",
                "Engagement per post by platform",
                _bars(report.by_platform, "platform"),
            ),
            _chart(
                "chart-hashtag",
                f"Engagement per post by hashtag (top {HASHTAGS_SHOWN})"
                if more > 0
                else "Engagement per post by hashtag",
                _bars(tags, "hashtag") if tags else '<p class="meta">No post used a hashtag.</p>',
                f"{more} more hashtags are left out here; the JSON output lists them all."
                if more > 0
                else "",
            ),
            _chart(
                "chart-heatmap",
                f"When posts did best: weekday × hour ({report.timezone})",
                _heatmap(report.heatmap),
                "Each cell is engagement per post published in that hour; grey: nothing published.",
            ),
            _chart(
                "chart-timeline",
                f"Engagement and posts per day ({report.timezone})",
                _timeline(report.by_day, report.timezone),
            ),
            _best_and_worst(report),
            _table(report.posts),
        ]
    return PAGE.format(title=escape(title), csp=CSP, css=CSS, body="\n".join(body))


def _header(report: Report, zone: ZoneInfo, title: str) -> str:
    start = report.since or min((r.published_at for r in report.posts), default=None)
    end = _day(report.generated_at, zone)
    period = f"{_day(start, zone)} – {end}" if start else f"up to {end}"
    generated = report.generated_at.astimezone(zone)
    out = [
        f"<header><h1>{escape(title)}</h1>",
        f'<p class="meta">{"" if report.campaign else "All campaigns · "}period {period} · generated '
        f"{generated:%Y-%m-%d %H:%M} {escape(generated.tzname() or '')} · time zone "
        f"{escape(report.timezone)} · counts read {_plural(report.snapshots, 'time')}</p>",
    ]
    if report.posts:
        t = report.total
        known = any(r.growth is not None for r in report.posts)
        cards = [
            ("Posts", _int(t.posts)),
            ("Engagement", _int(t.engagement)),
            ("Per post", _dec(t.per_post)),
            ("Rate", _pct(t.rate)),
            ("Growth since previous pull", f"+{_int(t.growth)}" if known else "—"),
        ]
        out.append('<dl class="totals">')
        out += [f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in cards]
        out.append("</dl>")
        out.append(f'<p class="meta">{RATE_MEANS}</p>')
    if report.unmeasured and report.posts:
        out.append(
            f'<p class="note">{_plural(report.unmeasured, "published post")} '
            f"{'has' if report.unmeasured == 1 else 'have'} no counts yet: run "
            "<code>eduadvocate metrics pull</code>.</p>"
        )
    if report.no_engagement:
        out.append(f'<p class="note">{escape(no_engagement_note(report.no_engagement))}</p>')
    out.append("</header>")
    return "\n".join(out)


def _nothing(report: Report) -> str:
    scope = f" in campaign {escape(report.campaign)}" if report.campaign else ""
    waiting = (
        f" {_plural(report.unmeasured, 'published post')} "
        f"{'is' if report.unmeasured == 1 else 'are'} waiting for first counts."
        if report.unmeasured
        else ""
    )
    return (
        '<section class="empty"><h2>Nothing to report yet</h2>'
        f"<p>No published post{scope} has engagement counts yet.{waiting}</p>"
        "<p>Run <code>eduadvocate metrics pull</code> to fetch counts from the platforms, then "
        "make this report again. (<code>eduadvocate schedule</code> also pulls by itself, by default "
        "an hour, a day and a week after each post goes out.)</p></section>"
    )


def _chart(id_: str, heading: str, svg: str, caption: str = "") -> str:
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<section><h2>{escape(heading)}</h2><figure id="{id_}">{svg}{cap}</figure></section>'


def _svg(width: float, height: float, title: str, desc: str, body: list[str], shape: str) -> str:
    # Each chart is drawn twice, "wide" for a laptop and "narrow" (reflowed) for a phone; the
    # stylesheet shows one, so its labels are drawn near their own size on either screen.
    return (
        f'<svg class="{shape}" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"<desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def _bars(groups: list[Group], what: str) -> str:
    title, desc = f"Engagement per post by {what}", "; ".join(_summary(g) for g in groups)
    peak = max((g.per_post for g in groups), default=0.0) or 1.0
    values = [f"{_dec(g.per_post)} per post · {_plural(g.posts, 'post')}" for g in groups]
    # Wide: the label left of its bar, wrapped (never cut) to the label column's width.
    width, left, right = 900, 210, 190
    wide, y = [], 4
    for g, value in zip(groups, values, strict=True):
        lines = _lines(g.key, left - 16, 13)
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
    room = n_width - 8 - max(_px(v, 12) for v in values)
    narrow, y = [], 0
    for g, value in zip(groups, values, strict=True):
        lines = _lines(g.key, n_width - 4, 13)
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


def _heatmap(cells: list[Cell]) -> str:
    at = {(c.weekday, c.hour): c for c in cells}
    peak = max((c.per_post for c in cells), default=0.0)
    title = "Engagement per post by weekday and hour"
    desc = (
        f"{len(cells)} weekday-hour cells with posts; the best is {_dec(peak)} engagement per post."
    )

    def cell(d: int, h: int, x: float, y: float, w: float, high: float, size: int) -> str:
        found = at.get((d, h))
        box = f'<rect x="{x + 1}" y="{y + 1}" width="{w - 2}" height="{high - 2}"'
        if found is None:
            return f'{box} fill="{EMPTY}"/>'
        share = found.per_post / peak if peak else 0.0
        tip = (
            f"{WEEKDAYS[d]} {h:02d}:00–{h:02d}:59: {_plural(found.posts, 'post')}, "
            f"{_int(found.engagement)} engagement, {_dec(found.per_post)} per post"
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
        out.append(f'<text class="v" x="{x + 88 + 8 * swatch}" y="{y + 13}">{_dec(peak)}</text>')
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


def _timeline(groups: list[Group], zone: str) -> str:
    if not groups:
        return '<p class="meta">No days to show.</p>'
    known = {g.key: (g.engagement, g.posts) for g in groups}
    first, last = date.fromisoformat(groups[0].key), date.fromisoformat(groups[-1].key)
    days = [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]
    peak_e = max(e for e, _ in known.values()) or 1
    peak_p = max(p for _, p in known.values()) or 1
    title = f"Engagement and posts per day ({zone})"
    desc = "; ".join(
        f"{g.key}: {g.engagement} engagement, {_plural(g.posts, 'post')}" for g in groups
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
        f'<text class="v" x="{left - 6}" y="{top + 22}" text-anchor="end" font-size="11">{_int(peak_e)}</text>',
        f'<line x1="{left}" x2="{width - right}" y1="{posts_base}" y2="{posts_base}" stroke="#b8c0cc"/>',
    ]
    for i, day in enumerate(days):
        engagement, posts = known.get(day, (0, 0))
        cx = left + slot * i + slot / 2
        he, hp = engagement / peak_e * (tall - 18), posts / peak_p * (short - 14)
        wide.append(
            f"<g><title>{day}: {_int(engagement)} engagement, {_plural(posts, 'post')}</title>"
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
            f"<g><title>{day}: {_int(engagement)} engagement, {_plural(posts, 'post')}</title>"
            f'<text class="v" x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">{_date(day)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{we:.1f}" height="13" fill="{BAR}"/>'
            f'<text x="{left + we + 5:.1f}" y="{y + 13}" font-size="12">{_int(engagement)}</text>'
            f'<rect x="{left}" y="{y + 17}" width="{wp:.1f}" height="10" fill="{POSTS_BAR}"/>'
            f'<text x="{left + wp + 5:.1f}" y="{y + 27}" font-size="12">{posts}</text></g>'
        )
        y += row
    lines = _lines(f"day, in {zone}", n_width, 12)
    narrow.append(_text(0, y + 12, lines, size=12, cls="v"))
    return _svg(width, posts_base + 44, title, desc, wide, "wide") + _svg(
        n_width, y + 16 * len(lines), title, desc, narrow, "narrow"
    )


def _best_and_worst(report: Report) -> str:
    best = f"<div><h2>Best posts</h2>{_post_list(report.best)}</div>"
    worst = f"<div><h2>Weakest posts</h2>{_post_list(report.worst)}</div>" if report.worst else ""
    return f'<section class="cols">{best}{worst}</section>'


def _post_list(rows: list[PostRow]) -> str:
    items = []
    for r in rows:
        rate = f" · rate {_pct(r.rate)}" if r.rate is not None else ""
        growth = f" · +{_int(r.growth)} since previous pull" if r.growth is not None else ""
        link = _link(r.url, "open post")
        items.append(
            f'<li><p class="text">{escape(_short(r.text, EXCERPT))}</p><p class="meta">'
            f"{escape(r.post)} · {escape(r.account)} · {escape(r.platform)} · {_local(r)} · "
            f"<strong>{_int(r.engagement)} engagement</strong>{rate}{growth}"
            f"{' · ' + link if link else ''}</p></li>"
        )
    return f'<ol class="posts">{"".join(items)}</ol>'


def _table(rows: list[PostRow]) -> str:
    columns = [
        ("Post", ""),
        ("Published", ""),
        ("Account", ""),
        *((label, "n") for _, label in COUNT_COLUMNS),
        ("Engagement", "n"),
        ("Rate", "n"),
        ("Growth", "n"),
        ("Link", ""),
    ]
    head = "".join(f'<th{_class(kind)} scope="col">{label}</th>' for label, kind in columns)
    body = []
    for r in rows:
        growth = f"+{_int(r.growth)}" if r.growth is not None else "—"
        cells = [
            f"<strong>{escape(r.post)}</strong>{escape(_first_words(r.text))}",
            f"{r.local:%Y-%m-%d}<br>{r.local:%H:%M}",
            f'{escape(r.account)}<br><span class="meta">{escape(r.platform)}</span>',
            *(_opt(getattr(r.counts, name)) for name, _ in COUNT_COLUMNS),
            f"<strong>{_int(r.engagement)}</strong>",
            _pct(r.rate),
            growth,
            _link(r.url, "open") or "—",
        ]
        kinds = ["t", "d", "a", *(kind for _, kind in columns[3:])]
        body.append(
            f'<tr title="{escape(r.text)}">'
            + "".join(
                f'<td{_class(kind)} data-label="{label}">{cell}</td>'
                for (label, _), kind, cell in zip(columns, kinds, cells, strict=True)
            )
            + "</tr>"
        )
    return (
        f'<section><h2>All posts</h2><div class="table-wrap"><table id="posts-table">'
        f"<caption>{_plural(len(rows), 'post')}, best first, each named by its id and first words; "
        f"— means the platform did not report it.</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _class(name: str) -> str:
    return f' class="{name}"' if name else ""


def _first_words(text: str, words: int = 6) -> str:
    """How the text report names a post after its id: ``"The levy vote is Tuesday. …"``."""
    first = text.split()
    start = " ".join(first[:words]) + (" …" if len(first) > words else "")
    return f"“{start}”" if start else ""


def _link(url: str | None, label: str) -> str:
    """A link that opens the post, only for http(s) addresses (never ``javascript:`` and such)."""
    if not url or not url.lower().startswith(("https://", "http://")):
        return ""
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'


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


def _lines(label: str, room: float, size: int) -> list[str]:
    """``label`` broken into lines no wider than ``room`` user units at font ``size``: between
    words where it can, inside a word (a long hashtag) where it must; nothing is left out."""
    out, line = [], ""
    for word in re.findall(r"\S+\s*", " ".join(label.split())):
        if not line or _px(line + word.rstrip(), size) <= room:
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
            if piece.strip() and _px(piece + ch, size) > room and not ch.isspace():
                broken.append(piece)
                piece = ""
            piece += ch
        broken.append(piece)
    return broken or [""]


def _px(text: str, size: int) -> float:
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
    return f"{g.key}: {_dec(g.per_post)} per post, {_plural(g.posts, 'post')}, {_int(g.engagement)} engagement"


def _local(r: PostRow) -> str:
    return f"{r.local:%a %Y-%m-%d %H:%M}"


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d}"


def _date(iso_day: str) -> str:
    d = date.fromisoformat(iso_day)
    return f"{d:%b} {d.day}"


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _plural(n: int, noun: str) -> str:
    return f"{_int(n)} {noun}{'' if n == 1 else 's'}"


def _int(n: int) -> str:
    return f"{n:,}"


def _opt(n: int | None) -> str:
    return "—" if n is None else _int(n)


def _dec(x: float) -> str:
    return f"{x:,.1f}"


def _compact(x: float) -> str:
    if x >= 10_000:
        return f"{x / 1000:.0f}k"
    if x >= 1000:
        return f"{x / 1000:.1f}k"
    return f"{x:.0f}" if x >= 100 or x == int(x) else f"{x:.1f}"


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"
