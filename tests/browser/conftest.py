"""Browser tests: Playwright driving Debian's Chromium against the live test server.

Each test saves a screenshot under `screenshots/` (ignored by git) so a person can look at the
pages. Without /usr/bin/chromium (`apt-get install chromium`) these tests are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture(scope="module")
def browser():
    # Skipped here, in the fixture every browser test uses: a pytestmark in a conftest marks
    # nothing, so without Chromium these tests failed instead of skipping.
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while it lives; the
    # tests' ORM calls stay synchronous, so Django's guard against ORM use inside an event loop
    # is lifted for the module, and only for it.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """Call to save the current page as screenshots/<test name>[-<suffix>].png."""

    def save(suffix: str = "") -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        name = request.node.name.replace("/", "_") + (f"-{suffix}" if suffix else "")
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


def _sign_in(page, user) -> None:
    from tests.factories import PASSWORD

    page.goto("/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/registry/")


@pytest.fixture
def sign_in(page):
    return lambda user: _sign_in(page, user)


@pytest.fixture
def signed_in_page(browser, live_server) -> Iterator:
    """Call with a user and a browser context's options (JavaScript off, a phone's viewport):
    a page of a context of its own, signed in as them."""
    contexts = []

    def open_as(user, **options):
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        _sign_in(page, user)
        return page

    yield open_as
    for context in contexts:
        context.close()
