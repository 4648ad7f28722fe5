"""review.html in a real browser: Debian's headless Chromium renders it, screenshots it and dumps its DOM.

Network proof, three layers, each with a control that shows the detector works:
1. Chromium runs with --host-resolver-rules "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1": no name resolves, so
   nothing can leave the machine; the only reachable address is a canary HTTP listener the test runs on
   127.0.0.1, and submitted text carries <img>/<iframe>/@import URLs pointing at it. The listener must
   see no request (the control page, which really embeds such an <img>, makes it see one).
2. Chromium writes a net-log; every URL request the page itself starts has an origin as initiator
   ("null" for a file:// page), while Chromium's own background fetches (component updater, account
   check) carry "not an origin". The report's log must hold no page-initiated request; the control's
   log must hold one.
3. The page's Content-Security-Policy (default-src 'none') blocks fetches even if escaping failed: a copy
   of the report with a raw <img> planted after the CSP meta makes no request either.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from pipelines.report import charts
from pipelines.report.build import write_annual_report
from tests.test_report import CHARTS, SECTIONS, Page, expected_rows, sample_inputs

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
SCREENSHOT_COPY = Path("/tmp/report_screenshot.png")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
BROWSER_INITIATOR = "not an origin"  # net-log initiator of Chromium's own (non-page) requests

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium fonts-noto-cjk; .ci/run does)",
)


@pytest.fixture()
def canary() -> Iterator[tuple[int, list[str]]]:
    """An HTTP listener on 127.0.0.1 that records every request it receives."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def chromium(page: Path, work: Path, name: str, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run headless Chromium on a file with a fresh profile and a net-log; returns (process, net-log)."""
    netlog = work / f"{name}.netlog.json"
    assert CHROMIUM is not None
    proc = subprocess.run(
        [
            CHROMIUM,
            *BROWSER_FLAGS,
            f"--user-data-dir={work / (name + '.profile')}",
            f"--log-net-log={netlog}",
            *args,
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc, netlog


def page_requests(netlog: Path) -> list[tuple[str, str]]:
    """(initiator, url) of every URL request in the net-log that the page, not the browser, started."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    out = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start and "url" in params and params.get("initiator") != BROWSER_INITIATOR:
            out.append((str(params.get("initiator")), str(params["url"])))
    return out


def hostile_inputs(port: int):  # type: ignore[no-untyped-def]
    """The sample year, with text that would fetch from the canary if it ever became markup."""
    inputs = sample_inputs()
    base = f"http://127.0.0.1:{port}"
    planted = {
        "img": f'<img src="{base}/img-in-name">',
        "iframe": f'<iframe src="{base}/iframe-in-reason"></iframe>',
        "css": f"<style>@import url({base}/css-in-dept);</style>",
    }
    inputs.changes.added.loc[0, "name"] = planted["img"]
    inputs.changes.retired.loc[0, "reason"] = planted["iframe"]
    status = next(s for s in inputs.validation.files if s.dept_code == "101")
    status.dept_name = planted["css"]  # shown in the department table and in chart labels
    return inputs, planted


def test_report_renders_in_chromium_without_network(tmp_path: Path, canary: tuple[int, list[str]]) -> None:
    port, hits = canary
    inputs, planted = hostile_inputs(port)
    report_dir = tmp_path / "reports" / "2026"
    write_annual_report(report_dir, inputs)
    review = report_dir / "review.html"

    # Without a CJK font every Chinese character is a box: the screenshot would be unreadable.
    if shutil.which("fc-list"):
        fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
        assert fonts.strip(), "no Chinese font installed: apt-get install fonts-noto-cjk"

    # (a) Screenshot: a real, non-blank picture with the charts' colours in it.
    shot = tmp_path / "review.png"
    chromium(review, tmp_path, "shot", f"--screenshot={shot}", "--window-size=1280,4000")
    shutil.copyfile(shot, SCREENSHOT_COPY)
    assert shot.stat().st_size > 50_000
    with Image.open(shot) as im:
        assert im.size == (1280, 4000)
        rgb = im.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 22) or []
        assert len(colours) > 100, "the screenshot is (nearly) one colour"
        white = sum(n for n, c in colours if min(c) >= 250)
        assert white < 0.97 * 1280 * 4000, "the screenshot is (nearly) blank"
        bar = tuple(int(charts.PALETTE[0][i : i + 2], 16) for i in (1, 3, 5))
        bar_pixels = sum(n for n, c in colours if all(abs(a - b) <= 8 for a, b in zip(c, bar, strict=True)))
        assert bar_pixels > 2_000, "no chart bars visible in the first 4000 pixels"

    # (b) The DOM Chromium built: every section, every chart drew marks, every table has its rows.
    dom, dom_log = chromium(review, tmp_path, "dom", "--dump-dom")
    page = Page(dom.stdout)
    assert page.sections == list(SECTIONS)
    assert set(page.charts) == set(CHARTS)
    assert all(n > 0 for n in page.charts.values()), page.charts
    for key, n in expected_rows(inputs).items():
        assert len(page.tables.get(f"t-{key}", [])) == n, key
    assert "script" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    assert "style" in page.tags and page.tags.count("style") == 1  # the page's own stylesheet only
    texts = [c for rows in page.tables.values() for r in rows for c in r]
    assert planted["img"] in texts and planted["iframe"] in texts and planted["css"] in texts

    # (c) Nothing left the machine, nothing was even attempted by the page.
    assert page_requests(Path(shot.parent / "shot.netlog.json")) == []
    assert page_requests(dom_log) == []
    assert hits == []

    # Layer 3: the CSP alone stops a fetch that escaping would have let through.
    unescaped = tmp_path / "unescaped.html"
    text = review.read_text(encoding="utf-8")
    head_end = text.index("</head>")
    unescaped.write_text(
        text[:head_end] + "</head>" + planted["img"] + text[head_end + len("</head>") :], encoding="utf-8"
    )
    csp_dom, csp_log = chromium(unescaped, tmp_path, "csp", "--dump-dom")
    assert "img" in Page(csp_dom.stdout).tags  # the element is there this time…
    assert page_requests(csp_log) == [] and hits == []  # …and still fetched nothing

    # Controls: the same detectors do see a page that really fetches.
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><p>对照页</p>{planted['img']}", encoding="utf-8")
    _, control_log = chromium(control, tmp_path, "control", "--dump-dom")
    assert hits == ["/img-in-name"]
    assert [url for _, url in page_requests(control_log)] == [f"http://127.0.0.1:{port}/img-in-name"]
