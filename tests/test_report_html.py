"""The HTML report is one self-contained page: nothing loads from anywhere, every user string is
escaped, an empty report still renders, and in a real headless Chromium (Debian's, driven over
its DevTools pipe, so no extra package and no browser download) the page loads without errors
and each chart draws something."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from eduadvocate.compose.render import Part, Rendering
from eduadvocate.config.defaults import Defaults
from eduadvocate.config.model import AccountConfig
from eduadvocate.content.model import Content, Post
from eduadvocate.core.counts import Counts
from eduadvocate.core.errors import Location
from eduadvocate.ledger.base import Delivery, Snapshot
from eduadvocate.metrics.html import render_html
from eduadvocate.metrics.report import Report, build
from tests.rows import published

NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
CHROMIUM = Path("/usr/bin/chromium")
CHARTS = ("chart-platform", "chart-hashtag", "chart-heatmap", "chart-timeline")
EVIL_TEXT = 'Vote <script>alert(1)</script> & "come" #FundOurSchools'
EVIL_URL = "javascript:alert(1)"

# (post, account, platform, days before NOW, UTC hour, text, likes, reposts, replies, reach)
POSTS = [
    (
        "budget",
        "x-main",
        "x",
        6,
        14,
        "Budget hearing tonight #FundOurSchools #K12",
        40,
        12,
        5,
        None,
    ),
    ("budget", "bsky", "bluesky", 6, 15, "Budget hearing tonight #FundOurSchools", 25, 6, 3, None),
    ("budget", "fb", "facebook", 5, 17, "Budget hearing recap #FundOurSchools", 80, 9, 14, 2400),
    ("teachers", "masto", "mastodon", 5, 13, "Thank a teacher today #TeachersRock", 18, 7, 2, None),
    (
        "teachers",
        "ig",
        "instagram",
        4,
        19,
        "Thank a teacher today #TeachersRock #K12",
        120,
        0,
        9,
        3100,
    ),
    ("buses", "x-main", "x", 4, 22, "Bus routes are changing #Transit", 8, 1, 6, None),
    ("buses", "bsky", "bluesky", 3, 12, "Bus routes are changing #Transit", 5, 2, 1, None),
    ("meals", "fb", "facebook", 3, 16, "Free school meals for all #SchoolMeals", 64, 20, 11, 1800),
    ("meals", "x-main", "x", 2, 14, "Free school meals for all #SchoolMeals #K12", 33, 15, 4, None),
    ("board", "masto", "mastodon", 2, 1, "Board meeting agenda is out #SchoolBoard", 3, 1, 0, None),
    ("board", "ig", "instagram", 1, 18, "Board meeting agenda is out #SchoolBoard", 47, 0, 3, 900),
    ("evil", "x-main<b>", "x", 1, 15, EVIL_TEXT, 2, 0, 1, None),
]


def _rendering(post_id: str, account: str, platform: str, text: str) -> Rendering:
    loc = Location("posts/posts.yaml", 1, 1)
    post = Post(
        id=post_id,
        loc=loc,
        file="posts/posts.yaml",
        defaults=Defaults(campaign="Fund Our Schools 2026"),
        content=Content(text=text),
        overrides={},
    )
    part = Part(text=text, length=len(text), limit=500, bytes=len(text.encode()))
    return Rendering(post, AccountConfig(account, platform, {}, loc), platform, [part])


def _delivery(
    id_: int, post_id: str, account: str, platform: str, at: datetime, url: str | None
) -> Delivery:
    return published(id_, post_id, account, platform, at, [url])


def sample_report() -> Report:
    """Twelve posts on five platforms over six days, each pulled twice, plus one not yet pulled."""
    deliveries, snapshots, renderings = [], [], {}
    for i, (post, account, platform, ago, hour, text, likes, reposts, replies, reach) in enumerate(
        POSTS, start=1
    ):
        at = (NOW - timedelta(days=ago)).replace(hour=hour, minute=5)
        url = EVIL_URL if post == "evil" else f"https://{platform}.example/{account}/{i}?a=1&b=2"
        deliveries.append(_delivery(i, post, account, platform, at, url))
        renderings[(post, account)] = _rendering(post, account, platform, text)
        for taken, share in ((at + timedelta(hours=1), 2), (at + timedelta(hours=24), 1)):
            counts = Counts(
                likes // share, reposts // share, replies // share, 0, None, None, reach
            )
            snapshots.append(Snapshot(i, 0, taken, counts))
    deliveries.append(_delivery(99, "late", "bsky", "bluesky", NOW - timedelta(hours=1), None))
    return build(deliveries, snapshots, renderings, NOW, timezone="America/Chicago")


def test_sample_report_covers_what_the_page_draws() -> None:
    report = sample_report()
    assert len(report.posts) == 12 and report.unmeasured == 1
    assert len(report.by_platform) == 5 and len(report.by_day) >= 5 and len(report.heatmap) >= 8
    assert all(r.growth is not None for r in report.posts)


def test_page_references_nothing_outside_itself() -> None:
    """Only the posts' own links point anywhere; no src, no @import, no url(), no script."""
    report = sample_report()
    page = render_html(report)
    links = {r.url for r in report.posts if r.url and r.url.startswith("https://")}
    assert re.search(r"\bsrc\s*=", page, re.IGNORECASE) is None
    assert "@import" not in page and "url(" not in page.lower()
    assert "<script" not in page.lower() and "<link" not in page.lower()
    hrefs = re.findall(r"<(\w+)[^>]*\bhref=\"([^\"]*)\"", page)
    assert hrefs
    for tag, href in hrefs:
        assert tag == "a" and href.replace("&amp;", "&") in links
    assert {h.replace("&amp;", "&") for _, h in hrefs} == links
    assert page.count("http") == page.count('href="http')  # no other address on the page


def test_user_strings_are_escaped_and_only_http_links_are_links() -> None:
    page = render_html(sample_report())
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x-main&lt;b&gt;" in page and "<b>" not in page
    assert "&quot;come&quot;" in page
    assert "javascript:" not in page


def test_page_has_the_sections_and_accessible_charts() -> None:
    page = render_html(sample_report())
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<title>Engagement report</title>" in page
    for id_ in (*CHARTS, "posts-table"):
        assert page.count(f'id="{id_}"') == 1
    labelled = r'<svg [^>]*role="img" aria-label="[^"]+"><title>[^<]+</title><desc>[^<]+</desc>'
    assert page.count("<svg") == len(re.findall(labelled, page)) == 4
    assert "1 published post has no counts yet" in page and "eduadvocate metrics pull" in page
    assert "Best posts" in page and "Weakest posts" in page


def test_empty_report_says_there_is_nothing_yet() -> None:
    report = build([], [], {}, NOW, campaign="Quiet <campaign>")
    page = render_html(report)
    assert "Nothing to report yet" in page and "eduadvocate metrics pull" in page
    assert "Quiet &lt;campaign&gt;" in page
    assert "<svg" not in page and "posts-table" not in page


def test_single_day_and_no_hashtags_render() -> None:
    report = sample_report()
    report.by_day, report.by_hashtag = report.by_day[:1], []
    page = render_html(report)
    assert "No post used a hashtag." in page and page.count("<svg") == 3


# -- in a real browser ---------------------------------------------------------------------------

FLAGS = (
    "--headless",
    "--no-sandbox",  # we run as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
    "--window-size=1200,900",
)
LAYOUT = """JSON.stringify(Object.fromEntries(%s.map(id => {
  const r = document.getElementById(id).getBoundingClientRect();
  const s = getComputedStyle(document.getElementById(id));
  return [id, {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height,
               shown: s.visibility === "visible" && s.display !== "none"}];
})))"""


class Cdp:
    """The DevTools protocol over Chromium's pipe: NUL-terminated JSON on fds 3 (in) and 4 (out)."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self.out, self.inp = to_browser, from_browser
        self.events: list[dict[str, Any]] = []
        self.buffer, self.last = b"", 0

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.last += 1
        message: dict[str, Any] = {"id": self.last, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.out, data) :]
        while True:
            reply = self._read()
            if reply.get("id") == self.last:
                assert "error" not in reply, f"{method}: {reply['error']}"
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read())
        return next(e for e in self.events if e.get("method") == method)

    def _read(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([self.inp], [], [], left)[0], "Chromium is silent"
            chunk = os.read(self.inp, 1 << 20)
            assert chunk, "Chromium closed its DevTools pipe"
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed


@dataclass
class Loaded:
    """What the browser saw: problems it reported, requests it made, layout and screenshots."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    boxes: dict[str, dict[str, Any]] = field(default_factory=dict)
    shots: dict[str, Image.Image] = field(default_factory=dict)


def _problems(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            out.append(f"page error: {details.get('exception', {}).get('description', details)}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            out.append(f"console.{params['type']}: {params['args']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            out.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
    return out


def load_in_chromium(page: Path, work: Path) -> Loaded:
    home = work / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
        "XDG_CACHE_HOME": str(home),
    }
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    log = (work / "chromium.log").open("wb")
    # bash puts the pipe ends on the fds Chromium reads (3) and writes (4), then execs it (dash
    # takes no fd above 9 in a redirection).
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={work / 'profile'}", "about:blank"]
    proc = subprocess.Popen(
        ["bash", "-c", f'exec "$@" 3<&{to_r} 4>&{from_w}', "bash", *command],
        pass_fds=(to_r, from_w),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=env,
    )
    os.close(to_r)
    os.close(from_w)
    cdp, seen = Cdp(to_w, from_r), Loaded()
    try:
        target = cdp.send("Target.createTarget", url="about:blank")["targetId"]
        session = cdp.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.send(f"{domain}.enable", session)
        # No scrollbar: capturing beyond the viewport would drop it and shift the layout under the clip.
        cdp.send("Emulation.setScrollbarsHidden", session, hidden=True)
        cdp.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=1200,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        cdp.events.clear()
        cdp.send("Page.navigate", session, url=page.as_uri())
        cdp.wait_for("Page.loadEventFired")
        layout = cdp.send(
            "Runtime.evaluate",
            session,
            expression=LAYOUT % json.dumps([*CHARTS, "posts-table"]),
            returnByValue=True,
        )
        seen.boxes = json.loads(layout["result"]["value"])
        full = cdp.send("Page.getLayoutMetrics", session)["cssContentSize"]
        regions = {**seen.boxes, "page": {"x": 0, "y": 0, **full}}
        for name, box in regions.items():
            clip = {k: box[k] for k in ("x", "y", "width", "height")} | {"scale": 1}
            shot = cdp.send(
                "Page.captureScreenshot",
                session,
                format="png",
                clip=clip,
                captureBeyondViewport=True,
            )
            seen.shots[name] = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
            seen.shots[name].save(work / f"{name}.png")
        seen.errors = _problems(cdp.events)
        seen.requests = [
            e["params"]["request"]["url"]
            for e in cdp.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        cdp.send("Browser.close")
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(to_w)
        os.close(from_r)
        log.close()
    return seen


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """The sample report's page as headless Chromium loaded it (once for this module)."""
    if not (CHROMIUM.exists() and shutil.which(str(CHROMIUM))):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `bash scripts/install-chromium`", pytrace=False
        )
    work = tmp_path_factory.mktemp("chromium")
    page = work / "report.html"
    page.write_text(render_html(sample_report()), encoding="utf-8")
    return load_in_chromium(page, work)


@pytest.mark.browser
def test_browser_loads_the_page_without_errors_or_requests(loaded: Loaded) -> None:
    assert loaded.errors == []
    assert all(url.startswith("file://") for url in loaded.requests), loaded.requests


@pytest.mark.browser
@pytest.mark.parametrize("id_", [*CHARTS, "posts-table"])
def test_browser_shows_each_chart_and_the_table(loaded: Loaded, id_: str) -> None:
    box = loaded.boxes[id_]
    assert box["shown"] and box["width"] >= 600 and box["height"] >= 100, box


@pytest.mark.browser
@pytest.mark.parametrize("id_", CHARTS)
def test_browser_draws_each_chart(loaded: Loaded, id_: str) -> None:
    """The chart's screenshot is not blank: several colours, and a good share not background."""
    shot = loaded.shots[id_]
    colours = shot.getcolors(maxcolors=1 << 20) or []
    inked = sum(shot.convert("L").histogram()[:235])  # pixels clearly darker than the white
    assert len(colours) > 8 and inked > 0.03 * shot.width * shot.height, (len(colours), inked)


def test_timeline_shows_days_without_posts_as_zero() -> None:
    report = sample_report()
    first, last = report.by_day[0], report.by_day[-1]
    report.by_day = [first, last]
    page = render_html(report)
    assert (first.key, last.key) == ("2026-11-22", "2026-11-27")
    assert page.count(": 0 engagement, 0 posts</title>") == 4  # Nov 23 to 26
