"""Browser fixtures: the system chromium driven by Playwright's async API (TOOLCHAIN.md).

The async API shares pytest-asyncio's event loop; the sync API cannot run in the same session.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.support import CHROMIUM_ARGS, SCREENSHOTS, Pages


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def pages(artifacts_dir: Path, request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    """Every page a test opens; no JavaScript error may happen in any of them."""
    watcher = Pages(artifacts_dir)
    yield watcher
    assert watcher.errors == [], "JavaScript errors in the pages:\n" + "\n".join(watcher.errors)


@pytest.fixture
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
