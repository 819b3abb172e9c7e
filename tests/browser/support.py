"""Helpers for the browser tests: ORM access from async tests, page error watching, artifacts."""

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async
from playwright.async_api import BrowserContext, ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


P = ParamSpec("P")
R = TypeVar("R")


def deadline(seconds: float) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Fail a test that runs longer than `seconds`, showing the await it was stuck in
    (page.evaluate, for one, has no timeout of its own)."""

    def decorate(test: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(test)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            async with asyncio.timeout(seconds):
                return await test(*args, **kwargs)

        return run

    return decorate


async def close_context(context: BrowserContext) -> None:
    """Close a context, but never hang a test on it (closing the browser ends it anyway)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(context.close(), timeout=10)


def db(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ORM code from an async test; the connection is closed afterwards."""
    return database_sync_to_async(func)


def _expected_console_error(text: str, url: str) -> bool:
    # While a test keeps the server down on purpose, chromium logs every failed reconnect.
    if "WebSocket connection to" in text or "ERR_CONNECTION_REFUSED" in text:
        return True
    # A 4xx answer of the public API that a test provokes (the page shows the field errors).
    return "Failed to load resource" in text and "/api/v1/public/" in url


class Pages:
    """Opens pages and records their uncaught exceptions and console errors."""

    def __init__(self, artifacts_dir: Path) -> None:
        self.artifacts_dir = artifacts_dir
        self.errors: list[str] = []
        self.pages: list[Page] = []

    async def new(self, context: BrowserContext) -> Page:
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("console", lambda msg: self._console(page, msg))
        self.pages.append(page)
        return page

    def _console(self, page: Page, msg: ConsoleMessage) -> None:
        url = msg.location.get("url", "") if msg.location else ""
        if msg.type == "error" and not _expected_console_error(msg.text, url):
            self.errors.append(f"{page.url}: console: {msg.text} ({url})")

    async def save_artifacts(self, name: str) -> None:
        """Screenshots of every open page, for a failed test."""
        for index, page in enumerate(self.pages):
            if not page.is_closed():
                path = self.artifacts_dir / f"{name}-{index}.png"
                await page.screenshot(path=str(path), full_page=True)
