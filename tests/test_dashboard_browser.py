"""The dashboard as a viewer gets it: `streamlit run`, driven by Debian's Chromium.

What AppTest cannot show: pages opened by their URL, the front end drawing them, charts
rendered, and a fragment rerunning on its own. Every page is loaded with data, without
data, and while another process holds the warehouse's writer lock (a pipeline run); each
is screenshotted into the test's folder, and into docs/screenshots/ when
DDRC_KEEP_SCREENSHOTS=1.

Chromium is /usr/bin/chromium (tools/install-chromium.sh installs it); Playwright never
downloads a browser here, and a missing Chromium fails the tests rather than skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ddrc_platform.core import catalog
from ddrc_platform.incidents import FailureKind
from tests.dashboard_home import APP, home_settings, incident_desk, pipeline_writing, sample_home
from tests.process import probed_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
KEPT_SCREENSHOTS = REPO / "docs" / "screenshots"
STREAMLIT = Path(sys.executable).parent / "streamlit"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HOST = "127.0.0.1"
START_SECONDS = 90
FIRST_PAGE_MS = 120_000  # the server's first page imports dagster and dbt
PAGE_MS = 60_000
WIDTH, HEIGHT = 1440, 900
BUSY = "pipeline is writing"
# each page's URL path and an element that only a finished render shows
CHART = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
PAGES = {
    "metrics": ("", '[data-testid="stMetric"]'),
    "trends": ("trends", CHART),
    "feedback": ("feedback", CHART),
    "sources": ("sources", '[data-testid="stDataFrame"] canvas'),
    "incidents": ("incidents", "text=Resolved in the last 14 days"),
}
OTHER_DEPLOYMENTS = ("DDRC_DEPLOYMENT", "DDRC_INCIDENT_STORE")  # the test's home, locally
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@contextmanager
def streamlit_server(ddrc_home: Path, log: Path) -> Iterator[str]:
    """`streamlit run dashboards/app.py` on a free local port; stopped by its own PID.

    Streamlit cannot bind port 0 and say which it got: a port lost to a race between the
    probe and the bind shows as "is not available" in its log, and the next try takes
    another."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DDRC_DEPLOYMENT", "DDRC_INCIDENT_STORE")
    }
    env["DDRC_HOME"] = str(ddrc_home)
    for _ in range(3):
        port = probed_port()
        command = [
            str(STREAMLIT), "run", str(APP),
            "--server.headless", "true", "--server.address", HOST, "--server.port", str(port),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ]  # fmt: skip
        with log.open("wb") as out:
            server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://{HOST}:{port}"
        try:
            if started(server, url, log):
                yield url
                return
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    pytest.fail("streamlit found no free port in three tries")


def started(server: subprocess.Popen, url: str, log: Path) -> bool:
    """True once it answers; False if it lost its port; a test failure otherwise."""
    deadline = time.monotonic() + START_SECONDS
    while not healthy(url):
        if server.poll() is not None and "is not available" in log.read_text():
            return False
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"streamlit did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    return True


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run tools/install-chromium.sh"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app on the home of a sample pipeline with history, staleness and incidents."""
    home = sample_home(tmp_path_factory)
    with streamlit_server(home, home.parent / "streamlit.log") as url:
        yield url, home


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    if os.environ.get("DDRC_KEEP_SCREENSHOTS") == "1":
        KEPT_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("*.png"):
            shutil.copy(shot, KEPT_SCREENSHOTS / shot.name)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        yield context.new_page()
    finally:
        context.close()


def visit(page: Page, url: str, name: str, shot: Path, *ready: str) -> str:
    """Open a page, wait until it shows what `ready` selects (its own rendered element by
    default), check it has no error, and screenshot it whole."""
    path, element = PAGES[name]
    page.goto(f"{url}/{path}")
    for selector in ready or (element,):
        page.wait_for_selector(selector, timeout=FIRST_PAGE_MS)
    page.wait_for_selector(IDLE, timeout=PAGE_MS)
    assert page.locator('[data-testid="stException"]').count() == 0, name
    text = page.locator('[data-testid="stApp"]').inner_text()
    assert "Traceback" not in text and "Error" not in text, f"{name}:\n{text}"
    # Streamlit scrolls inside its main block: make the window as tall as the page
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight"
    )
    page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, min(height + 80, 8000))})
    for selector in ready or (element,):
        page.wait_for_selector(selector)
    page.screenshot(path=str(shot))
    return text


def test_every_page_renders_with_data_and_keeps_it_while_the_pipeline_writes(
    served, page, screenshots
):
    url, home = served
    texts = {name: visit(page, url, name, screenshots / f"{name}.png") for name in PAGES}
    assert not [name for name, text in texts.items() if "No data yet" in text]
    assert "Lots cleared of hazardous materials" in texts["metrics"]

    with pipeline_writing(home / "warehouse.duckdb"):
        for name, (_, element) in PAGES.items():
            shot = screenshots / f"while-writing-{name}.png"
            if name == "incidents":  # the incident store is not the warehouse
                assert BUSY not in visit(page, url, name, shot)
            else:  # the data this server read before the run, and a notice
                assert BUSY in visit(page, url, name, shot, f"text={BUSY}", element), name


def test_every_page_says_no_data_yet_without_data(browser, page, screenshots, tmp_path):
    empty = tmp_path / "never-run"
    with streamlit_server(empty, tmp_path / "streamlit.log") as url:
        for name in PAGES:
            shot = screenshots / f"no-data-{name}.png"
            if name == "incidents":
                assert "No open incidents." in visit(page, url, name, shot)
            else:
                visit(page, url, name, shot, "text=No data yet")
    assert not empty.exists()


def test_a_new_incident_shows_on_the_open_page_without_a_reload(served, page, tmp_path):
    url, home = served
    visit(page, url, "incidents", tmp_path / "incidents.png")
    row, _ = incident_desk(home_settings(home)).report(
        FailureKind.SCHEMA_DRIFT, [catalog.PASADENA.asset_key], check_name="schema_contract"
    )
    expect(page.get_by_text(row.incident.title, exact=True)).to_be_visible(timeout=45_000)
