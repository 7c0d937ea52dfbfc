"""``report --format html``: the report as one self-contained page.

Everything is inline (the CSS, and the charts, drawn as SVG by :mod:`eduadvocate.metrics.charts`)
and there is no script, so the
page opens offline, can be mailed or printed, and loads nothing from anywhere (its content
security policy says so to the browser). Every string from the files or a platform (post text,
account names, hashtags, links) is escaped, and only http(s) links become links. Charts print
their numbers, so no reading depends on colour.

It reads on a phone as on a laptop: the stylesheet shows the drawing of each chart that fits the
screen (wide, or narrow below 900 px), text wraps and is never cut, and below 1000 px the table of
posts becomes one card per post. Posts are named by their id and first words, as the terminal
report names them.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from eduadvocate.metrics.charts import bars, count, dec, heatmap, plural, timeline
from eduadvocate.metrics.report import (
    RATE_MEANS,
    PostRow,
    Report,
    first_words,
    no_amplifiers_note,
    no_engagement_note,
)

HASHTAGS_SHOWN = 15
AMPLIFIERS_SHOWN = 25
EXCERPT = 160
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
@media screen and (max-width:899px){svg.wide{display:none}svg.narrow{display:block}}
@media (max-width:720px){.cols{grid-template-columns:minmax(0,1fr)}}
@media (max-width:600px){main{padding:20px 12px 32px}figure{padding:8px}
h1{font-size:1.4rem}.totals{grid-template-columns:repeat(auto-fit,minmax(140px,1fr))}}
@media screen and (max-width:999px){#posts-table thead{display:none}
#posts-table,#posts-table caption,#posts-table tbody,#posts-table tr,#posts-table td{display:block}
#posts-table tbody{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
#posts-table tr{border:1px solid var(--line);border-radius:8px;padding:6px 10px}
#posts-table td{position:relative;border:0;padding:2px 0 2px 42%;min-width:0;text-align:left}
#posts-table td::before{content:attr(data-label);position:absolute;left:0;width:40%;
color:var(--muted)}
#posts-table td.t{padding:4px 0 6px;border-bottom:1px solid var(--line);margin-bottom:4px}
#posts-table td.t::before{content:none}
#posts-table td.x{display:none}}
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
        body.append(_amplifiers(report))
    else:
        tags = report.by_hashtag[:HASHTAGS_SHOWN]
        more = len(report.by_hashtag) - len(tags)
        body += [
            _chart(
                "chart-platform",
                "Engagement per post by platform",
                bars(report.by_platform, "platform"),
            ),
            _chart(
                "chart-hashtag",
                f"Engagement per post by hashtag (top {HASHTAGS_SHOWN})"
                if more > 0
                else "Engagement per post by hashtag",
                bars(tags, "hashtag") if tags else '<p class="meta">No post used a hashtag.</p>',
                f"{more} more hashtags are left out here; the JSON output lists them all."
                if more > 0
                else "",
            ),
            _chart(
                "chart-heatmap",
                f"When posts did best: weekday × hour ({report.timezone})",
                heatmap(report.heatmap),
                "Each cell is engagement per post published in that hour; grey: nothing published.",
            ),
            _chart(
                "chart-timeline",
                f"Engagement and posts per day ({report.timezone})",
                timeline(report.by_day, report.timezone),
            ),
            _best_and_worst(report),
            _table(report.posts),
            _amplifiers(report),
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
        f"{escape(report.timezone)} · counts read {plural(report.snapshots, 'time')}</p>",
    ]
    if report.posts:
        t = report.total
        known = any(r.growth is not None for r in report.posts)
        cards = [
            ("Posts", count(t.posts)),
            ("Engagement", count(t.engagement)),
            ("Per post", dec(t.per_post)),
            ("Rate", _pct(t.rate)),
            ("Growth since previous pull", f"+{count(t.growth)}" if known else "—"),
        ]
        out.append('<dl class="totals">')
        out += [f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in cards]
        out.append("</dl>")
        out.append(f'<p class="meta">{RATE_MEANS}</p>')
    if report.unmeasured and report.posts:
        out.append(
            f'<p class="note">{plural(report.unmeasured, "published post")} '
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
        f" {plural(report.unmeasured, 'published post')} "
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


def _best_and_worst(report: Report) -> str:
    best = f"<div><h2>Best posts</h2>{_post_list(report.best)}</div>"
    worst = f"<div><h2>Weakest posts</h2>{_post_list(report.worst)}</div>" if report.worst else ""
    return f'<section class="cols">{best}{worst}</section>'


def _post_list(rows: list[PostRow]) -> str:
    items = []
    for r in rows:
        rate = f" · rate {_pct(r.rate)}" if r.rate is not None else ""
        growth = f" · +{count(r.growth)} since previous pull" if r.growth is not None else ""
        link = _link(r.url, "open post")
        items.append(
            f'<li><p class="text">{escape(_short(r.text, EXCERPT))}</p><p class="meta">'
            f"{escape(r.post)} · {escape(r.account)} · {escape(r.platform)} · {_local(r)} · "
            f"<strong>{count(r.engagement)} engagement</strong>{rate}{growth}"
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
        growth = f"+{count(r.growth)}" if r.growth is not None else "—"
        cells = [
            f"<strong>{escape(r.post)}</strong>{escape(_first_words(r.text))}",
            f"{r.local:%Y-%m-%d}<br>{r.local:%H:%M}",
            f'{escape(r.account)}<br><span class="meta">{escape(r.platform)}</span>',
            *(_opt(getattr(r.counts, name)) for name, _ in COUNT_COLUMNS),
            f"<strong>{count(r.engagement)}</strong>",
            _pct(r.rate),
            growth,
            _link(r.url, "open") or "—",
        ]
        kinds = ["t", "d", "a", *(kind for _, kind in columns[3:])]
        # "x": nothing to tell, which a card leaves out (it lists its fields one a line).
        kinds = [
            f"{kind} x".strip() if cell == "—" else kind
            for kind, cell in zip(kinds, cells, strict=True)
        ]
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
        f"<caption>{plural(len(rows), 'post')}, best first, each named by its id and first words; "
        f"— means the platform did not report it (a card leaves it out).</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _amplifiers(report: Report) -> str:
    """Who engaged with the campaign (the figures of ``people suggest``), one item each: a
    list, not a table, so that it reads on a phone as it does on a laptop."""
    head = '<section id="amplifiers"><h2>Who amplifies the campaign</h2>'
    if not report.amplifiers:
        return f'{head}<p class="meta">{escape(no_amplifiers_note(report))}</p></section>'
    shown = report.amplifiers[:AMPLIFIERS_SHOWN]
    items = []
    for a in shown:
        kinds = ", ".join(plural(n, kind) for kind, n in a.counts if n)
        who = escape(a.handle) + (f" ({escape(a.name)})" if a.name else "")
        link = _link(a.url, "profile")
        known = (
            f"in people.yaml as <code>{escape(a.person)}</code>"
            if a.person
            else "not in people.yaml yet"
        )
        items.append(
            f'<li><p class="text"><strong>{who}</strong> · {escape(a.platform)}</p>'
            f'<p class="meta"><strong>{count(a.total)} in all</strong>: {kinds} · '
            f"{plural(a.posts, 'campaign post')} · first seen {_when(a.first_seen, report)}, "
            f"last {_when(a.last_seen, report)} · {known}{' · ' + link if link else ''}</p></li>"
        )
    more = len(report.amplifiers) - len(shown)
    caption = (
        f'<p class="meta">{more} more: <code>eduadvocate people suggest --limit 0</code> lists '
        "them all.</p>"
        if more > 0
        else ""
    )
    return f'{head}<ol class="posts">{"".join(items)}</ol>{caption}</section>'


def _when(moment: datetime, report: Report) -> str:
    return f"{moment.astimezone(ZoneInfo(report.timezone)):%Y-%m-%d}"


def _class(name: str) -> str:
    return f' class="{name}"' if name else ""


def _first_words(text: str, words: int = 6) -> str:
    """A post's first words in quotes, as the text report names it after its id."""
    start = first_words(text, words)
    return f"“{start}”" if start else ""


def _link(url: str | None, label: str) -> str:
    """A link that opens the post, only for http(s) addresses (never ``javascript:`` and such)."""
    if not url or not url.lower().startswith(("https://", "http://")):
        return ""
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'


def _local(r: PostRow) -> str:
    return f"{r.local:%a %Y-%m-%d %H:%M}"


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d}"


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _opt(n: int | None) -> str:
    return "—" if n is None else count(n)


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"
