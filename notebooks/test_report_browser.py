"""`cutover report` pages opened in a real headless Chromium.

For a validation run and experiments on the story's estate (`cutover run`),
cost runs (`cutover cost`) and migration plans (`cutover plan`), the page must
load offline with no console message, show the verdict banner with the
verdict the run's summary.json implies, inline every SVG chart of the run
directory, and paint the banner and the charts' lines (checked on a
screenshot's pixels). An experiment's page must give the reasons of its
verdict, its headline, one row per population and one per site. A page with a script error must
be caught by the same checks, so they can fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from conftest import run_cutover

# The flags this machine's Chromium needs as root with no network: no
# sandbox, no GPU, nothing fetched in the background; every host name
# resolves to nothing, so a page that needs the network shows it.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
]

# Background colours of the banner classes in sim/src/report/html.rs.
BANNER_RGB = {
    "pass": (0xD4, 0xED, 0xDA),
    "fail": (0xF8, 0xD7, 0xDA),
    "none": (0xE2, 0xE3, 0xE5),
}

# The charts' series colours (PALETTE in sim/src/report/plot.rs); a series
# may hide another, so the check counts them all.
SERIES_RGB = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]

# Chromium logs a page's console messages and uncaught errors to stderr as
# `...:INFO:CONSOLE:3] "message", source: URL (3)` (older builds:
# `CONSOLE(3)`).
CONSOLE_LINE = re.compile(r":CONSOLE[:(]")


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser"
    )
    if not found:
        pytest.fail(
            "no Chromium: install it (Debian: apt-get install chromium) or set CHROMIUM; "
            ".ci/run installs it"
        )
    return found


@dataclass
class Page:
    dom: str
    console: list[str]
    screenshot: Path


def open_page(page: Path, workdir: Path, height: int = 800) -> Page:
    """Opens `page` twice in headless Chromium, for its DOM and for a
    screenshot `height` pixels tall; collects the console lines of both."""
    console: list[str] = []
    url = page.resolve().as_uri()
    shot = workdir / f"{page.stem}.png"

    def launch(*mode: str) -> str:
        profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=workdir)
        done = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *mode, url],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr}"
        console.extend(line for line in done.stderr.splitlines() if CONSOLE_LINE.search(line))
        return done.stdout

    dom = launch("--dump-dom")
    launch(f"--screenshot={shot}", f"--window-size=1100,{height}", "--hide-scrollbars")
    assert shot.is_file(), f"chromium wrote no screenshot {shot}"
    return Page(dom=dom, console=console, screenshot=shot)


class DomFacts(HTMLParser):
    """What the test needs from a rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.verdict_text = ""
        self.verdict_class = ""
        self.svgs = 0
        self.scripts = 0
        self.external: list[str] = []
        self.text = ""
        # Rows marked passed or failed, per table id.
        self.rows: dict[str, int] = {}
        self._in: list[str] = []
        self._table = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            value = a.get(key) or ""
            if re.match(r"^(https?:)?//", value):
                self.external.append(value)
        if tag == "table":
            self._table = a.get("id") or ""
        if tag == "tr" and a.get("class") in ("passed", "failed"):
            self.rows[self._table] = self.rows.get(self._table, 0) + 1
        if a.get("id") == "verdict":
            self.verdict_class = a.get("class") or ""
            self._in.append("verdict")
        elif tag == "title":
            self._in.append("title")
        elif self._in:
            self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in:
            self._in.pop()

    def handle_data(self, data):
        self.text += data
        if self._in and self._in[0] == "verdict":
            self.verdict_text += data
        elif self._in and self._in[0] == "title":
            self.title += data


def facts(dom: str) -> DomFacts:
    parser = DomFacts()
    parser.feed(dom)
    return parser


def pixels_of(png: Path, *colours: tuple[int, int, int]) -> list[int]:
    """How many pixels of the screenshot have each colour (within 2 of
    each channel)."""
    image = matplotlib.image.imread(png)
    pixels = np.rint(image[..., :3] * 255).astype(np.int16)
    return [
        int(np.all(np.abs(pixels - np.array(rgb)) <= 2, axis=-1).sum()) for rgb in colours
    ]


def expected_verdict(summary: dict) -> str:
    """The banner class summary.json implies: a run's own verdict, else a
    cost run's budget overruns make it fail, else it judges nothing."""
    if "verdict" in summary:
        return "pass" if str(summary["verdict"]).lower() == "pass" else "fail"
    if "success" in summary:
        return "pass" if summary["success"] else "fail"
    if summary.get("budget_overruns"):
        return "fail"
    return "none"


RUNS = {
    "mmc": ["run", "scenarios/mmc.toml"],
    "mmc-sweep": ["sweep", "scenarios/mmc-sweep.toml", "--replications", "2"],
    "cost-migration": ["cost", "scenarios/cost-migration.toml"],
    # Experiments on the story's estate: a failover drill and the spike
    # with a crash at its peak.
    "ny-crash-hold": ["run", "scenarios/story/ny-crash-hold.toml"],
    "spike-ams-crash-bfd": ["run", "scenarios/story/spike-ams-crash-bfd.toml"],
    # Plans: the nine-week reference and its under-provisioned variant on
    # the story's estate, and the VM-to-Kubernetes move whose last stage
    # fails its gate and rolls back (a failing plan's page, in seconds).
    "plan-migration": ["plan", "scenarios/story/plan-migration.toml"],
    "plan-migration-underprovisioned": [
        "plan",
        "scenarios/story/plan-migration-underprovisioned.toml",
    ],
    "plan-vm-to-k8s-cold": ["plan", "scenarios/central/plan-vm-to-k8s-cold.toml"],
}


def visible_rows(html: str) -> int:
    """Table rows the page shows open: those of a collapsed <details> are
    left out."""
    return re.sub(r"<details.*?</details>", "", html, flags=re.S).count("<tr")


@pytest.mark.parametrize("name", sorted(RUNS))
def test_report_page_loads_in_chromium_and_shows_the_verdict(name, tmp_path):
    run_dir = tmp_path / name
    is_plan = RUNS[name][0] == "plan"
    done = run_cutover(*RUNS[name], "--out", str(run_dir), ok=(0, 1) if is_plan else (0,))
    page = tmp_path / f"{name}.html"
    run_cutover("report", str(run_dir), "--out", str(page))
    summary = json.loads((run_dir / "summary.json").read_text())
    if is_plan:
        # A plan's exit status is its verdict.
        assert done.returncode == (0 if summary["verdict"] == "pass" else 1), (
            done.returncode,
            summary["verdict"],
        )
    charts = sorted(run_dir.glob("*.svg"))
    assert charts, f"{name}: the run wrote no chart"

    # Tall enough to hold the whole page: the headline and figures' tables
    # shown open, then the charts (about 500 pixels each).
    html = page.read_text()
    opened = open_page(page, tmp_path, height=600 + 30 * visible_rows(html) + 700 * len(charts))
    assert opened.console == [], f"{name}: console messages:\n" + "\n".join(opened.console)

    dom = facts(opened.dom)
    assert dom.title == summary["scenario"], "the page is the report, not an error page"
    verdict = expected_verdict(summary)
    assert dom.verdict_text.startswith("Verdict:"), dom.verdict_text
    assert verdict in dom.verdict_class.split(), (dom.verdict_class, dom.verdict_text)
    word = {"pass": "PASS", "fail": "FAIL", "none": "none"}[verdict]
    assert word in dom.verdict_text, dom.verdict_text
    if verdict == "fail" and summary.get("budget_overruns"):
        assert f"{len(summary['budget_overruns'])} overruns" in dom.verdict_text
    assert dom.svgs >= len(charts), f"{dom.svgs} inline <svg> for {len(charts)} charts"
    assert dom.scripts == 0 and dom.external == [], (dom.scripts, dom.external)
    if summary.get("model") == "plan":
        # The headline and the stage table come before the charts, one row
        # per stage the plan ran, failed gates with their reasons.
        assert html.index('id="headline"') < html.index('id="stages"') < html.index("<svg")
        assert dom.rows.get("stages") == len(summary["stages"]), (dom.rows, len(summary["stages"]))
        assert f"{summary['duration_days']:.2f} days" in dom.text
        for rollback in summary["rollbacks"]:
            assert f"FAIL: {rollback['reasons']}" in dom.text, rollback
        if summary.get("montecarlo"):
            assert "Success probability" in dom.text
    if summary.get("model") == "experiment":
        # Why it failed, the headline, the populations and the sites come
        # before the charts; no raw key dump.
        marks = ['id="headline"', 'id="populations"', 'id="sites"', "<svg"]
        if summary["reasons"]:
            marks.insert(0, 'id="reasons"')
        positions = [html.index(m) for m in marks]
        assert positions == sorted(positions), dict(zip(marks, positions))
        assert 'id="figures"' not in html
        for reason in summary["reasons"]:
            assert reason in dom.text, reason
        assert dom.rows.get("populations") == len(summary["populations"]), dom.rows
        assert dom.rows.get("sites") == len(summary["sites"]), dom.rows
        assert f"{summary['requests']:,.0f}" in dom.text, summary["requests"]
        for failure in summary["failures"]:
            assert failure in dom.text, failure
    if "headline" in summary and isinstance(summary["headline"], dict):
        # A cost run: its headline first, the long list of figures last.
        assert html.index('id="headline"') < html.index("<svg") < html.index('id="figures"')
        assert summary["headline"]["break_even"] in dom.text

    banner, *series = pixels_of(opened.screenshot, BANNER_RGB[verdict], *SERIES_RGB)
    lines = sum(series)
    assert banner > 5_000, f"{name}: the verdict banner is not painted ({banner} pixels)"
    assert lines > 200 * len(charts), f"{name}: the charts' lines are not painted ({lines} pixels)"


def test_the_checks_catch_a_broken_page(tmp_path):
    """A page with console output, an uncaught error and no banner must
    fail the checks above."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>broken</title></head><body>"
        "<p>no verdict here</p>"
        '<script>console.error("boom"); notDefined();</script></body></html>'
    )
    opened = open_page(page, tmp_path)
    joined = "\n".join(opened.console)
    assert "boom" in joined and "notDefined" in joined, joined
    dom = facts(opened.dom)
    assert dom.verdict_text == "" and dom.svgs == 0 and dom.scripts == 1
    assert all(n < 100 for n in pixels_of(opened.screenshot, *BANNER_RGB.values(), *SERIES_RGB))
