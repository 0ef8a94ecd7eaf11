"""Real headless Chromium (Playwright's sync API) against pytest-django's live server.

Browsers cannot be downloaded on these machines, so Playwright drives the
distribution's Chromium; the tests skip with a clear reason where it is missing.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "var" / "screenshots"
MISSING_CHROMIUM = f"headless Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"


def pytest_collection_modifyitems(config, items):
    """Skip the browser tests before any database is set up when there is no Chromium to drive."""
    if CHROMIUM.exists():
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=MISSING_CHROMIUM))


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(MISSING_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    # Playwright's sync API keeps an asyncio loop running on this thread, which Django's
    # ORM safety check mistakes for async code; allow it only while the browser runs.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1360, "height": 860}, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    # Generous: on a loaded 2-core machine (several suites and Chromiums at once) Chart.js pages
    # took more than 10 s to draw; a wait only costs this long when something is really wrong.
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot of the current page to var/screenshots/NAME.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Tickets filed in the browser must not reach the developer's broker: the UI is under test, not triage."""
    monkeypatch.setattr("feedback.services.tickets_enqueue_triage", lambda *, ticket_ids: None)


@pytest.fixture(autouse=True)
def taxonomy(transactional_db):
    """Put back the departments and categories the data migration seeds, for every browser test.

    Browser tests are transactional (the live server's thread must see their
    writes), so each starts from whatever the last one flushed. Django's
    serialized_rollback cannot restore the seed here: while Playwright's event
    loop runs, Django hands this thread a different connection object from the
    one that holds the serialized snapshot, so the restore is silently skipped.
    """
    from tests.conftest import taxonomy_reseed

    taxonomy_reseed()


@pytest.fixture
def no_issue_tasks(monkeypatch):
    """Issue tasks enqueued on commit are dropped: routing runs in-process and the broker is not under test."""
    from issues import tasks

    for name in ("route_issue", "reroute_open_issues", "deliver_notification"):
        task = getattr(tasks, name)
        monkeypatch.setattr(task, "apply_async", lambda *args, **kwargs: None)
        monkeypatch.setattr(task, "delay", lambda *args, **kwargs: None)
