"""One headless Debian chromium for the module, the local stack behind `local.gateway`.

Skipped when /usr/bin/chromium (or Playwright) is missing on a developer's machine; under CI
(CI=true) that is a failure instead, since .ci/run installs both. Each test gets a fresh
browser context (its own cookies); a failing test leaves a screenshot in SCREENSHOTS.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.environment import LocalEnvironment, local_environment
from local.gateway import Gateway

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("QBO_SCREENSHOTS", PROJECT_ROOT / "build" / "screenshots"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Third-party cookies blocked, as more and more browsers ship: the flow must not need them.
    "--test-third-party-cookie-phaseout",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser test (.ci/run installs chromium)")
    pytest.skip(f"{reason}: install it (apt-get install chromium) to run the browser test")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    gateway = Gateway(PROJECT_ROOT / "web")
    with local_environment(
        stack_name="qbo-sync-browser",
        # No quieter overrides: Powertools keeps a logger's level and unflushed metrics in
        # process-wide state that outlives this stack, where later tests would meet them.
        settings_page_url=gateway.settings_page_url,
        redirect_uri=gateway.callback_url,
        consent_page=True,
    ) as env:
        # The test drains the queues itself (gateway.drain), so each step is deterministic.
        gateway.serve(env, poll_events=False)
        yield gateway
        gateway.stop()


@pytest.fixture
def ui(gateway: Gateway) -> LocalEnvironment:
    """The stack's environment, emptied before each test."""
    assert gateway.env is not None
    gateway.env.reset()
    return gateway.env


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1000, "height": 760})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    if request.node.stash.get(_FAILED, False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"FAILED-{request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failure: {path}")
    context.close()


def shoot(page: Any, name: str) -> Path:
    """Keeps a screenshot of a state the flow reaches (listed in the issue's report)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def clear_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
