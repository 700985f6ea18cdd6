"""Browser end-to-end tests: Debian chromium (through Playwright) against a real
`python -m bot serve` subprocess on the demo content.

The server's data directory gets the test session's prebuilt search index and intent model
(built once for the whole suite, see `prebuilt_dir`) and its own database. One server serves
every test; the reconnect test kills it with SIGKILL and starts it again on the same port and
data directory. Each test gets a fresh browser context,
which is a new anonymous citizen.

Set BOT_E2E_DATA_TEMPLATE to a data directory built before (by `build_services`) to skip the
build while working on the widget: its index and intent model are copied.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server_process import ROOT, Server, free_port
from tests.prebuilt import copy_prebuilt

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "e2e"


@pytest.fixture(scope="package")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (CI is set, so this is a failure, not a skip)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture(scope="package")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def e2e_data_dir(
    chromium: Path, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The server's data dir: its own database, the session's prebuilt index and intent model
    (`prebuilt_dir`, built once by `build_services` for the whole test session)."""
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    template = os.environ.get("BOT_E2E_DATA_TEMPLATE")
    if template and Path(template, "index").is_dir():
        return copy_prebuilt(Path(template), data_dir)
    return copy_prebuilt(request.getfixturevalue("prebuilt_dir"), data_dir)


@pytest.fixture(scope="package")
def server(e2e_data_dir: Path) -> Iterator[Server]:
    with Server(e2e_data_dir, free_port(), e2e_data_dir.parent / "server.log").running() as instance:
        yield instance


@pytest.fixture
def live_server(server: Server) -> Server:
    """The shared server, started again if an earlier test left it down."""
    if server.process is None or server.process.poll() is not None:
        server.process = None
        server.start()
    return server


@pytest.fixture(scope="package")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # The tests serve modified copies of the demo page through page.route; without this
        # flag Chromium treats such a page as public and blocks its WebSocket to 127.0.0.1.
        instance = playwright.chromium.launch(
            executable_path=str(chromium), args=["--disable-features=LocalNetworkAccessChecks"]
        )
        try:
            yield instance
        finally:
            instance.close()


# Console errors a test may cause on purpose: connections refused while the server is down,
# the probe of a refused event stream.
NETWORK_NOISE = ("WebSocket connection to", "net::ERR_", "Failed to load resource")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "network_errors: the test takes the server or a transport down on purpose"
    )


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh context (a new anonymous citizen). Any page error, console error
    (CSP violations among them) or dialog fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.type} {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.problems = problems
    try:
        yield page
    finally:
        context.close()
    if request.node.get_closest_marker("network_errors"):
        problems = [p for p in problems if not any(noise in p for noise in NETWORK_NOISE)]
    assert not problems, "\n".join(problems)


@pytest.fixture
def widget(page: Any, live_server: Server, artifacts: Path) -> Any:
    from tests.e2e.widget_page import Widget

    return Widget(page, live_server.url, artifacts)
