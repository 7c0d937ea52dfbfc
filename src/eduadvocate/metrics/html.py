"""``report --format html``: the report as one self-contained page.

Everything is inline (the CSS, and the charts, drawn here as SVG) and there is no script, so the
page opens offline, can be mailed or printed, and loads nothing from anywhere. Every string from
the files or a platform (post text, account names, hashtags, links) is escaped, and only http(s)
links become links. Charts print their numbers, so no reading depends on colour.
"""

from __future__ import annotations

import math
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
body{margin:0;background:#fff;color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:32px 24px 48px}
h1{font-size:1.7rem;margin:0 0 4px}
h2{font-size:1.15rem;margin:0 0 10px}
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
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}
ol.posts{list-style:none;padding:0;margin:0}
ol.posts li{border-top:1px solid var(--line);padding:10px 0}
.text{margin:0 0 4px;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.82rem}
caption{text-align:left;color:var(--muted);padding-bottom:6px}
th,td{padding:6px 5px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--card)}
.n{text-align:right}
.n,.d{font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{min-width:10rem;overflow-wrap:anywhere}
code{background:var(--card);border:1px solid var(--line);padding:0 5px;border-radius:4px}
.empty{padding:24px;border:1px dashed #c5ccd6;border-radius:8px;background:var(--card)}
@media (max-width:720px){.cols{grid-template-columns:1fr}}
@media print{main{max-width:none;padding:0}.table-wrap{overflow:visible}
section{break-inside:avoid-page}a{color:inherit}}
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
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
    return PAGE.format(title=escape(title), css=CSS, body="\n".join(body))


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


def _svg(width: float, height: float, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"<desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def _bars(groups: list[Group], what: str) -> str:
    width, row, left, right = 900, 30, 210, 190
    peak = max((g.per_post for g in groups), default=0.0) or 1.0
    out = []
    for i, g in enumerate(groups):
        y = 4 + i * row
        w = g.per_post / peak * (width - left - right)
        out.append(
            f"<g><title>{escape(_summary(g))}</title>"
            f'<text x="{left - 10}" y="{y + 19}" text-anchor="end">{escape(_short(g.key, 24))}</text>'
            f'<rect x="{left}" y="{y + 5}" width="{max(w, 2):.1f}" height="{row - 10}" rx="3" fill="{BAR}"/>'
            f'<text class="v" x="{left + max(w, 2) + 8:.1f}" y="{y + 19}">{_dec(g.per_post)} per post · '
            f"{_plural(g.posts, 'post')}</text></g>"
        )
    desc = "; ".join(_summary(g) for g in groups)
    return _svg(width, row * len(groups) + 8, f"Engagement per post by {what}", desc, out)


def _heatmap(cells: list[Cell]) -> str:
    cw, ch, left, top = 36, 28, 48, 24
    width, grid_bottom = left + 24 * cw + 4, top + 7 * ch
    at = {(c.weekday, c.hour): c for c in cells}
    peak = max((c.per_post for c in cells), default=0.0)
    out = [
        f'<text class="v" x="{left + h * cw + cw / 2:.0f}" y="{top - 8}" text-anchor="middle">{h}</text>'
        for h in range(24)
    ]
    for d, name in enumerate(WEEKDAYS):
        y = top + d * ch
        out.append(
            f'<text x="{left - 10}" y="{y + ch / 2 + 5:.0f}" text-anchor="end">{name}</text>'
        )
        for h in range(24):
            x, cell = left + h * cw, at.get((d, h))
            if cell is None:
                out.append(
                    f'<rect x="{x + 1}" y="{y + 1}" width="{cw - 2}" height="{ch - 2}" fill="{EMPTY}"/>'
                )
                continue
            share = cell.per_post / peak if peak else 0.0
            tip = (
                f"{name} {h:02d}:00–{h:02d}:59: {_plural(cell.posts, 'post')}, "
                f"{_int(cell.engagement)} engagement, {_dec(cell.per_post)} per post"
            )
            dark = ' class="on-dark"' if share > 0.55 else ""
            out.append(
                f"<g><title>{tip}</title>"
                f'<rect x="{x + 1}" y="{y + 1}" width="{cw - 2}" height="{ch - 2}" fill="{_shade(share)}"/>'
                f'<text x="{x + cw / 2:.0f}" y="{y + ch / 2 + 4:.0f}" text-anchor="middle" '
                f'font-size="11"{dark}>{_compact(cell.per_post)}</text></g>'
            )
    ly = grid_bottom + 18
    out.append(f'<text class="v" x="{left}" y="{ly + 13}">Per post: 0</text>')
    for i in range(8):
        out.append(
            f'<rect x="{left + 80 + i * 26}" y="{ly}" width="26" height="16" fill="{_shade(i / 7)}"/>'
        )
    out.append(f'<text class="v" x="{left + 80 + 8 * 26 + 8}" y="{ly + 13}">{_dec(peak)}</text>')
    gx = left + 80 + 8 * 26 + 80
    out.append(f'<rect x="{gx}" y="{ly}" width="26" height="16" fill="{EMPTY}"/>')
    out.append(f'<text class="v" x="{gx + 34}" y="{ly + 13}">no posts</text>')
    out.append(
        f'<text class="v" x="{width - 4}" y="{ly + 13}" text-anchor="end">hour of day →</text>'
    )
    desc = (
        f"{len(cells)} weekday-hour cells with posts; the best is {_dec(peak)} engagement per post."
    )
    return _svg(width, ly + 24, "Engagement per post by weekday and hour", desc, out)


def _timeline(groups: list[Group], zone: str) -> str:
    if not groups:
        return '<p class="meta">No days to show.</p>'
    known = {g.key: (g.engagement, g.posts) for g in groups}
    first, last = date.fromisoformat(groups[0].key), date.fromisoformat(groups[-1].key)
    days = [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]
    width, left, right, top, tall, short = 900, 110, 16, 22, 150, 50
    slot = (width - left - right) / len(days)
    bar = min(slot * 0.7, 56)
    base, posts_base = top + tall, top + tall + 16 + short
    peak_e = max(e for e, _ in known.values()) or 1
    peak_p = max(p for _, p in known.values()) or 1
    labels, every = len(days) <= 31, math.ceil(len(days) / 14)
    out = [
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
        out.append(
            f"<g><title>{day}: {_int(engagement)} engagement, {_plural(posts, 'post')}</title>"
            f'<rect x="{cx - bar / 2:.1f}" y="{base - he:.1f}" width="{bar:.1f}" height="{he:.1f}" fill="{BAR}"/>'
            f'<rect x="{cx - bar / 2:.1f}" y="{posts_base - hp:.1f}" width="{bar:.1f}" height="{hp:.1f}" fill="{POSTS_BAR}"/>'
        )
        if labels:
            size = 11 if slot >= 30 else 9
            out.append(
                f'<text x="{cx:.1f}" y="{base - he - 4:.1f}" text-anchor="middle" font-size="{size}">{_compact(engagement)}</text>'
                f'<text x="{cx:.1f}" y="{posts_base - hp - 3:.1f}" text-anchor="middle" font-size="{size}">{posts}</text>'
            )
        if i % every == 0:
            out.append(
                f'<text class="v" x="{cx:.1f}" y="{posts_base + 16}" text-anchor="middle">{_date(day)}</text>'
            )
        out.append("</g>")
    out.append(
        f'<text class="v" x="{(left + width - right) / 2:.0f}" y="{posts_base + 36}" '
        f'text-anchor="middle">day, in {escape(zone)}</text>'
    )
    desc = "; ".join(
        f"{g.key}: {g.engagement} engagement, {_plural(g.posts, 'post')}" for g in groups
    )
    return _svg(width, posts_base + 44, f"Engagement and posts per day ({zone})", desc, out)


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
    counts = "".join(f'<th class="n" scope="col">{label}</th>' for _, label in COUNT_COLUMNS)
    head = (
        '<tr><th scope="col">Published</th><th scope="col">Account</th>'
        f'<th scope="col">Text</th>{counts}<th class="n" scope="col">Engagement</th>'
        '<th class="n" scope="col">Rate</th><th class="n" scope="col">Growth</th><th scope="col">Link</th></tr>'
    )
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="n">{_opt(getattr(r.counts, name))}</td>' for name, _ in COUNT_COLUMNS
        )
        growth = f"+{_int(r.growth)}" if r.growth is not None else "—"
        body.append(
            f'<tr><td class="d">{r.local:%Y-%m-%d}<br>{r.local:%H:%M}</td>'
            f'<td>{escape(r.account)}<br><span class="meta">{escape(r.platform)}</span></td>'
            f'<td class="t" title="{escape(r.text)}">{escape(_short(r.text, 100))}</td>{cells}'
            f'<td class="n"><strong>{_int(r.engagement)}</strong></td><td class="n">{_pct(r.rate)}</td>'
            f'<td class="n">{growth}</td><td>{_link(r.url, "open") or "—"}</td></tr>'
        )
    return (
        f'<section><h2>All posts</h2><div class="table-wrap"><table id="posts-table">'
        f"<caption>{_plural(len(rows), 'post')}, best first; — means the platform did not report it."
        f"</caption><thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _link(url: str | None, label: str) -> str:
    """A link that opens the post, only for http(s) addresses (never ``javascript:`` and such)."""
    if not url or not url.lower().startswith(("https://", "http://")):
        return ""
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'


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
