"""The HTML report in a real headless Chromium (Debian's, driven over its DevTools pipe, so no extra
package and no browser download), on a 414-px phone and a 1280-px laptop and the widths between:
it loads without errors and without a single request, nothing scrolls sideways, no text is cut,
every chart fits the screen with whole labels big enough to read, and each chart draws something.

Two reports: a crowded one (long post ids, long first words, a long web address, a long
hashtag) and one with a single post. The screenshots go to $EDUADVOCATE_ARTIFACTS (default
``.artifacts/`` in the repository), under ``report-html/``, to look at after a run.
"""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from eduadvocate.metrics.html import render_html
from eduadvocate.metrics.report import Report
from tests.test_report_html import CHARTS, POSTS, sample_report

REPO = Path(__file__).resolve().parent.parent
# Read here, at import: the tests' isolation clears every EDUADVOCATE_ variable before a test runs.
ARTIFACTS = Path(os.environ.get("EDUADVOCATE_ARTIFACTS") or REPO / ".artifacts") / "report-html"
CHROMIUM = Path("/usr/bin/chromium")
PHONE, LAPTOP = (414, 896), (1280, 800)
# Every width is laid out and audited; the phone and the laptop are also photographed.
WIDTHS = (320, 375, PHONE[0], 600, 768, 900, 1024, LAPTOP[0])
SMALLEST_TEXT = 9.0  # CSS px: a chart's smallest label as drawn, after its SVG is scaled

LONG_ID = "spring-budget-hearing-reminder-for-parents-teachers-and-students-2026"
LONG_ACCOUNT = "district-communications-office-main-account"
LONG_WORD = "Supercalifragilisticexpialidociousandevenlongerwordsthatnevereverbreak"
LONG_URL = (
    "https://www.example-school-district.org/news/2026/budget/hearing/agenda-and-minutes"
    "?utm_source=mastodon&utm_campaign=fund-our-schools-2026"
)
LONG_TAG = "#FundOurSchoolsAndLibrariesAndBusesAndMealsForEveryone"
CROWDED = [
    *POSTS,
    (
        LONG_ID,
        LONG_ACCOUNT,
        "mastodon",
        2,
        16,
        f"{LONG_WORD} see {LONG_URL} {LONG_TAG}",
        12,
        3,
        1,
        None,
    ),
]
ONE = [("levy", "x-main", "x", 1, 15, "The levy vote is Tuesday #VoteYes", 1, 0, 0, None)]
REPORTS = {"crowded": lambda: sample_report(CROWDED), "one": lambda: sample_report(ONE, late=False)}

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
)
# What the page looks like at one width, measured after the next frame is laid out.
AUDIT = """new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
  const width = %d, small = %f, root = document.documentElement;
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className ? "." + el.className : "")
    + ' "' + el.textContent.trim().slice(0, 50) + '"';
  const out = {scrollWidth: root.scrollWidth, clipped: [], outside: [], squeezed: [], charts: {}, cut: [],
               tiny: [], labels: {}, figures: {}, text: document.body.innerText};
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg") || !el.getClientRects().length) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    if (el.clientWidth && el.scrollWidth > el.clientWidth)
      out.clipped.push(`${name(el)}: ${el.scrollWidth} > ${el.clientWidth} px`);
    // A paragraph squeezed into a narrow column beside nothing (a table's caption once was):
    // more than three lines in under a quarter of the screen. What is in a table's cells is
    // left out: a column of a wide table is narrow by design.
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    const line = parseFloat(style.lineHeight) || 1.5 * parseFloat(style.fontSize);
    const cell = el.closest("td,th");
    const inColumn = cell && getComputedStyle(cell).display === "table-cell";
    if (!inColumn && box.width < width / 4 && box.height > 3.5 * line)
      out.squeezed.push(`${name(el)}: ${box.width.toFixed(0)} px wide, ${Math.round(box.height / line)} lines`);
    for (const n of el.childNodes) {
      if (n.nodeType !== 3 || !n.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const r = range.getBoundingClientRect();
      if (r.left < -0.5 || r.right > width + 0.5)
        out.outside.push(`${name(el)}: ${r.left.toFixed(1)}..${r.right.toFixed(1)} px`);
    }
  }
  for (const figure of document.querySelectorAll("figure[id]")) {
    const shown = [...figure.querySelectorAll("svg")].filter(s => s.getClientRects().length);
    const boxes = shown.map(s => s.getBoundingClientRect());
    const f = figure.getBoundingClientRect(), style = getComputedStyle(figure);
    out.figures[figure.id] = {x: f.x + scrollX, y: f.y + scrollY, width: f.width,
      height: f.height, shown: style.visibility === "visible" && style.display !== "none"};
    out.charts[figure.id] = boxes.map(b => ({left: b.left, right: b.right, width: b.width,
                                             height: b.height, y: b.top + scrollY}));
    out.labels[figure.id] = [];
    shown.forEach((svg, i) => {
      const box = boxes[i], scale = svg.getScreenCTM().a;
      for (const t of svg.querySelectorAll("text")) {
        const r = t.getBoundingClientRect(), label = t.textContent;
        out.labels[figure.id].push(label);
        if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5
            || r.bottom > box.bottom + 0.5)
          out.cut.push(`${figure.id} "${label}": ${r.left.toFixed(1)}..${r.right.toFixed(1)}`
                       + ` outside ${box.left.toFixed(1)}..${box.right.toFixed(1)} px`);
        const size = parseFloat(getComputedStyle(t).fontSize) * scale;
        if (size < small) out.tiny.push(`${figure.id} "${label}": ${size.toFixed(1)} px`);
      }
    });
  }
  const table = document.getElementById("posts-table");
  if (table) {
    const r = table.getBoundingClientRect();
    out.table = {left: r.left, right: r.right, width: r.width, height: r.height};
  }
  done(JSON.stringify(out));
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
    """What the browser saw: problems it reported, requests it made, each width's audit and the
    screenshots (the whole page and each chart, at the phone's and the laptop's width)."""

    report: Report | None
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    audits: dict[int, dict[str, Any]] = field(default_factory=dict)
    shots: dict[tuple[int, str], Image.Image] = field(default_factory=dict)
    saved: list[Path] = field(default_factory=list)

    @property
    def boxes(self) -> dict[str, dict[str, Any]]:
        """Each chart's figure at the laptop's width: shown, x, y, width, height."""
        figures: dict[str, dict[str, Any]] = self.audits[LAPTOP[0]]["figures"]
        return figures


def _problems(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            out.append(f"page error: {details.get('exception', {}).get('description', details)}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            out.append(f"console.{params['type']}: {params['args']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            out.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
    return out


def _look(cdp: Cdp, session: str, width: int, height: int) -> dict[str, Any]:
    # A phone is emulated as one (the viewport meta counts, scrollbars overlay).
    cdp.send(
        "Emulation.setDeviceMetricsOverride",
        session,
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=width <= PHONE[0],
    )
    audit = cdp.send(
        "Runtime.evaluate",
        session,
        expression=AUDIT % (width, SMALLEST_TEXT),
        awaitPromise=True,
        returnByValue=True,
    )
    value: dict[str, Any] = json.loads(audit["result"]["value"])
    return value


def _shoot(cdp: Cdp, session: str, clip: dict[str, float]) -> Image.Image:
    shot = cdp.send(
        "Page.captureScreenshot",
        session,
        format="png",
        clip={**clip, "scale": 1},
        captureBeyondViewport=True,
    )
    return Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")


def load_in_chromium(
    page: Path, work: Path, report: Report | None = None, case: str = ""
) -> Loaded:
    """``page`` as Chromium lays it out at each of WIDTHS; its screenshots go to ARTIFACTS as
    ``{case}-{width}x{height}.png`` (without a case, to ``work``)."""
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
    cdp, seen = Cdp(to_w, from_r), Loaded(report)
    try:
        target = cdp.send("Target.createTarget", url="about:blank")["targetId"]
        session = cdp.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.send(f"{domain}.enable", session)
        # No scrollbar: capturing beyond the viewport would drop it and shift the layout under the clip.
        cdp.send("Emulation.setScrollbarsHidden", session, hidden=True)
        _look(cdp, session, *PHONE)
        cdp.events.clear()
        cdp.send("Page.navigate", session, url=page.as_uri())
        cdp.wait_for("Page.loadEventFired")
        folder = ARTIFACTS if case else work
        folder.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            height = PHONE[1] if width <= PHONE[0] else LAPTOP[1]
            seen.audits[width] = audit = _look(cdp, session, width, height)
            if width not in (PHONE[0], LAPTOP[0]):
                continue
            full = cdp.send("Page.getLayoutMetrics", session)["cssContentSize"]
            whole = _shoot(cdp, session, {"x": 0, "y": 0, **full})
            path = folder / f"{case or 'page'}-{width}x{height}.png"
            whole.save(path)
            seen.saved.append(path)
            for id_, boxes in audit["charts"].items():
                for box in boxes[:1]:
                    clip = {
                        "x": box["left"],
                        "y": box["y"],
                        **{k: box[k] for k in ("width", "height")},
                    }
                    seen.shots[width, id_] = _shoot(cdp, session, clip)
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


@pytest.fixture(scope="module", params=sorted(REPORTS))
def loaded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Loaded:
    """One report's page as headless Chromium laid it out at each width (once for this module)."""
    if not (CHROMIUM.exists() and shutil.which(str(CHROMIUM))):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `bash scripts/install-chromium`", pytrace=False
        )
    case: str = request.param
    report = REPORTS[case]()
    work = tmp_path_factory.mktemp("chromium")
    page = work / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return load_in_chromium(page, work, report, case)


@pytest.mark.browser
def test_browser_loads_the_page_without_errors_or_requests(loaded: Loaded) -> None:
    assert loaded.errors == []
    assert all(url.startswith("file://") for url in loaded.requests), loaded.requests


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_scrolls_sideways_and_no_text_is_cut(loaded: Loaded, width: int) -> None:
    """No horizontal scroll, and no element's text wider than its box or beyond the screen."""
    audit = loaded.audits[width]
    assert audit["scrollWidth"] <= width
    assert audit["clipped"] == []
    assert audit["outside"] == []


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_no_text_is_squeezed_into_a_narrow_column(loaded: Loaded, width: int) -> None:
    """No paragraph wraps line after line in a sliver of the screen (the posts table's
    caption did, on a phone, when the table was laid out as cards)."""
    assert loaded.audits[width]["squeezed"] == []


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_charts_fit_the_screen_with_whole_readable_labels(loaded: Loaded, width: int) -> None:
    """Each chart shows one drawing, inside the screen; no label runs past the drawing's edge or
    is drawn smaller than SMALLEST_TEXT; each platform and hashtag is named in full."""
    audit = loaded.audits[width]
    assert sorted(audit["charts"]) == sorted(CHARTS)
    for id_, boxes in audit["charts"].items():
        assert len(boxes) == 1, (id_, boxes)
        box = boxes[0]
        assert box["left"] >= 0 and box["right"] <= width and box["height"] >= 24, (id_, box)
    assert audit["cut"] == []
    assert audit["tiny"] == []
    labels = {id_: "\n".join(texts) for id_, texts in audit["labels"].items()}
    report = loaded.report
    assert report is not None
    for id_, groups in (
        ("chart-platform", report.by_platform),
        ("chart-hashtag", report.by_hashtag[:15]),
    ):
        for g in groups:
            assert g.key in labels[id_].split("\n"), (id_, g.key)


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_every_post_is_named_in_full(loaded: Loaded, width: int) -> None:
    """The table names each post by its whole id, whatever the width."""
    audit = loaded.audits[width]
    box = audit["table"]
    assert box["left"] >= 0 and box["right"] <= width, box
    assert loaded.report is not None
    for row in loaded.report.posts:
        assert row.post in audit["text"]


@pytest.mark.browser
def test_charts_use_the_laptops_width(loaded: Loaded) -> None:
    for id_ in CHARTS:
        box = loaded.boxes[id_]
        assert box["shown"] and box["width"] >= 1000 and box["height"] >= 60, (id_, box)


@pytest.mark.browser
@pytest.mark.parametrize("width", [PHONE[0], LAPTOP[0]])
@pytest.mark.parametrize("id_", CHARTS)
def test_browser_draws_each_chart(loaded: Loaded, width: int, id_: str) -> None:
    """The chart's screenshot is not blank: several colours, and a good share not background."""
    shot = loaded.shots[width, id_]
    colours = shot.getcolors(maxcolors=1 << 20) or []
    inked = sum(shot.convert("L").histogram()[:235])  # pixels clearly darker than the white
    assert len(colours) > 8 and inked > 0.01 * shot.width * shot.height, (len(colours), inked)


@pytest.mark.browser
def test_screenshots_are_saved_as_artifacts(
    loaded: Loaded, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole page at the phone's and the laptop's size, as PNGs under ARTIFACTS."""
    case = request.node.callspec.params["loaded"]
    assert [p.name for p in loaded.saved] == [f"{case}-{w}x{h}.png" for w, h in (PHONE, LAPTOP)]
    for path, (width, _) in zip(loaded.saved, (PHONE, LAPTOP), strict=True):
        assert path.parent == ARTIFACTS
        with Image.open(path) as image:
            assert image.width == width and image.height >= 800
    with capsys.disabled():
        print(f"\nscreenshots of the HTML report ({case}): {ARTIFACTS}")
