"""The HTML report in a real browser: headless Chromium renders it, lays it out without
horizontal overflow, and draws a page that is not blank (a screenshot smoke test).

Chromium is Debian's ``chromium`` package. Without it these tests are skipped, except under
``CI=true``, where a missing browser is a failure (CI installs it). Screenshots stay in the
test's ``tmp_path``; pytest keeps the last few runs' under its basetemp for a look by eye.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest
from PIL import Image

from dpledger.adapters.reports.chart import BALANCE_COLOUR
from dpledger.adapters.reports.html import render_html
from dpledger.reporting.statement import Statement

TIMEOUT_SECONDS = 60
# Without these, headless Chromium on a machine with no network waits on background
# connections (updates, sync, QUIC) and hangs.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SCREEN = (1280, 2400)

# Test-only: the report with its Content-Security-Policy removed (it forbids scripts, rightly)
# and a script that writes the page's widths into the DOM for --dump-dom to show.
_MEASURE = """<script>
const root = document.documentElement;
const chart = document.querySelector("#chart svg").getBoundingClientRect();
const out = document.createElement("pre");
out.id = "layout-measure";
const scrolled = [...document.querySelectorAll(".wide")].map(
  (box) => box.scrollWidth - box.clientWidth);
out.textContent = [root.scrollWidth, root.clientWidth, Math.round(chart.width),
  Math.round(chart.height), document.body.clientWidth, Math.max(0, ...scrolled)].join(" ");
document.body.append(out);
</script>"""
_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable; skip (or fail under CI=true) when it is not installed."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        message = "chromium is not installed (apt-get install chromium); the browser checks need it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _run(chromium: str, tmp_path: Path, page: Path, *args: str) -> str:
    """Run Chromium on ``page`` with a fresh profile; its stdout, or a failure naming stderr."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        pytest.fail(
            f"chromium did not finish in {TIMEOUT_SECONDS} s: {' '.join(command)}\n"
            f"stderr (last lines):\n{stderr[-3000:]}"
        )
    shutil.rmtree(profile, ignore_errors=True)  # a profile is megabytes; the page is kept
    if done.returncode != 0:
        pytest.fail(
            f"chromium exited {done.returncode}: {' '.join(command)}\n"
            f"stderr (last lines):\n{done.stderr[-3000:]}"
        )
    return done.stdout


def _write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def _measured(chromium: str, tmp_path: Path, sheet: Statement, width: int) -> tuple[str, list[int]]:
    html = _CSP.sub("", render_html(sheet)).replace("</body>", f"{_MEASURE}\n</body>")
    dom = _run(
        chromium,
        tmp_path,
        _write(tmp_path, f"measure-{width}.html", html),
        f"--window-size={width},{SCREEN[1]}",
        "--dump-dom",
    )
    match = re.search(r'<pre id="layout-measure">([\d ]+)</pre>', dom)
    assert match, f"the measuring script did not run; the DOM starts:\n{dom[:2000]}"
    return dom, [int(n) for n in match.group(1).split()]


def test_the_report_renders_with_its_figures_and_chart(
    chromium: str, tmp_path: Path, sheet: Statement
) -> None:
    dom = _run(
        chromium,
        tmp_path,
        _write(tmp_path, "report.html", render_html(sheet)),
        f"--window-size={SCREEN[0]},{SCREEN[1]}",
        "--dump-dom",
    )
    doc = lxml.html.document_fromstring(dom)
    text = " ".join(doc.text_content().split())
    for figure in (sheet.opening, sheet.total_in, sheet.total_out, sheet.closing, sheet.surplus):
        assert str(figure) in text
    assert "<svg" in dom
    assert len(doc.get_element_by_id("events").findall(".//tbody/tr")) == len(sheet.lines)


@pytest.mark.parametrize("width", [SCREEN[0], 800])
def test_nothing_overflows_sideways(
    chromium: str, tmp_path: Path, sheet: Statement, width: int
) -> None:
    _, (scroll_width, client_width, chart_width, chart_height, body_width, table_scroll) = (
        _measured(chromium, tmp_path, sheet, width)
    )
    assert scroll_width <= client_width, (
        f"at {width}px the page is {scroll_width}px wide, more than the {client_width}px window"
    )
    # Narrower screens may scroll the wide tables in their boxes; at these widths (A4's is
    # about 800px) every table must fit.
    assert table_scroll == 0, f"at {width}px a table is {table_scroll}px too wide for the page"
    # The chart fills the text column and keeps its proportions: readable, not a thumbnail.
    assert chart_width >= 0.9 * (body_width - 60), (chart_width, body_width)
    assert chart_height >= 0.3 * chart_width, (chart_width, chart_height)


def test_the_report_policy_blocks_scripts(chromium: str, tmp_path: Path, sheet: Statement) -> None:
    # Even if a script got into the file, the page's own policy would not run it.
    html = render_html(sheet).replace(
        "</body>", '<script>document.body.append("SCRIPT RAN")</script>\n</body>'
    )
    dom = _run(
        chromium,
        tmp_path,
        _write(tmp_path, "with-script.html", html),
        f"--window-size={SCREEN[0]},{SCREEN[1]}",
        "--dump-dom",
    )
    assert str(sheet.closing) in dom
    assert "SCRIPT RAN" not in dom.replace('append("SCRIPT RAN")', "")


def test_screenshot_is_a_real_page_with_the_chart(
    chromium: str, tmp_path: Path, sheet: Statement
) -> None:
    png = tmp_path / "report.png"
    _run(
        chromium,
        tmp_path,
        _write(tmp_path, "report.html", render_html(sheet)),
        f"--screenshot={png}",
        f"--window-size={SCREEN[0]},{SCREEN[1]}",
    )
    assert png.is_file(), f"no screenshot was written to {png}"
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.size == SCREEN
        rgb = image.convert("RGB")
    colours = rgb.getcolors(maxcolors=SCREEN[0] * SCREEN[1])
    assert colours is not None
    assert len(colours) > 200, f"only {len(colours)} colours: the page looks blank ({png})"
    white = max(count for count, _ in colours)
    assert white < 0.95 * SCREEN[0] * SCREEN[1], f"the page is almost all one colour ({png})"
    line = tuple(int(BALANCE_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    near = sum(
        count
        for count, (r, g, b) in colours
        if abs(r - line[0]) <= 12 and abs(g - line[1]) <= 12 and abs(b - line[2]) <= 12
    )
    assert near > 500, f"the balance line ({BALANCE_COLOUR}) is not in the screenshot ({png})"
