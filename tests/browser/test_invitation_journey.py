"""Proactive chat in a real browser (docs/invitations.md): on a matching page of the widget demo
the invitation appears after the rule's time, is announced without taking the focus, shows its
text as text; "Chat now" opens the chat with the suggested topic chosen, and the counts reach
the metrics. "No thanks" (or Esc) dismisses it, and the cap keeps it away on the next page."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from routing.models import InvitationTally
from tests.browser.support import Pages, close_context, db, deadline
from tests.conftest import LiveServer
from tests.factories import InvitationRuleFactory, TopicFactory
from tests.routing.conftest import make_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

TEXT = "Questions about sizes? We're online & happy to help <3"


def _scene() -> None:
    TopicFactory(name="Returns", slug="returns")
    topic = TopicFactory(name="Product questions", slug="product-questions")
    # Online with a console open and room: the topic has an agent available.
    make_agent(topics=[topic], first_name="Marta")
    # A short wait keeps the test quick; the demo's own rule waits 10 s.
    InvitationRuleFactory(
        topic=topic, url_patterns="/widget-demo/*", min_seconds_on_page=1, text=TEXT
    )


def _counts() -> tuple[int, int, int]:
    rows = InvitationTally.objects.values_list("shown", "accepted", "dismissed")
    return tuple(sum(column) for column in zip(*rows, strict=True)) if rows else (0, 0, 0)  # type: ignore[return-value]


async def _counted(expected: tuple[int, int, int]) -> None:
    """The widget counts in the background: wait for the counters (the test's deadline bounds
    the wait)."""
    while await db(_counts)() != expected:
        await asyncio.sleep(0.1)


async def _check_answer(shop: Page, url: str) -> Any:
    """Open the page and return the widget's first invitation check answer."""
    async with shop.expect_response(lambda r: "/invitations/check/" in r.url) as info:
        await shop.goto(url)
    return await (await info.value).json()


@deadline(60)
async def test_an_invitation_is_accepted_and_the_chat_opens_on_its_topic(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    await db(_scene)()
    server = live_server_factory()
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    shop = await pages.new(context)
    try:
        await shop.goto(f"{server.url}/widget-demo/")
        invitation = shop.get_by_role("dialog", name="Chat invitation")
        await expect(invitation).to_be_visible()
        # The text is text: the markup shows as typed.
        await expect(invitation).to_contain_text(TEXT)
        await expect(shop.get_by_role("status")).to_have_text(f"Chat invitation: {TEXT}")
        # It never takes the focus from the page the visitor is reading.
        assert await shop.evaluate("document.activeElement === document.body")
        await shop.screenshot(path=str(screenshots_dir / "widget-invitation.png"))

        await invitation.get_by_role("button", name="Chat now").click()
        await expect(invitation).to_be_hidden()
        await expect(shop.locator("#helpdesk-widget-panel")).to_be_visible()
        handle = await shop.wait_for_selector("#helpdesk-widget-frame")
        chat = await handle.content_frame()
        assert chat is not None
        await expect(chat.locator("#cw-topic")).to_have_value("product-questions")
        await _counted((1, 1, 0))

        # The chat starts on that topic like any other.
        await chat.locator("#cw-name").fill("Ana")
        await chat.locator("#cw-message").fill("Do the boots run small?")
        await chat.get_by_role("button", name="Start chat").click()
        await expect(chat.locator("#cw-messages")).to_contain_text("Do the boots run small?")

        # Another page with a conversation stored: the widget does not even ask.
        checks: list[str] = []
        shop.on("request", lambda r: checks.append(r.url) if "/invitations/" in r.url else None)
        await shop.goto(f"{server.url}/widget-demo/?page=2")
        await expect(shop.get_by_role("button", name="Chat with us")).to_be_visible()
        await shop.wait_for_load_state("networkidle")
        assert checks == []
    except BaseException:
        await pages.save_artifacts("invitation-accept")
        raise
    finally:
        await close_context(context)


@deadline(60)
async def test_an_invitation_dismissed_stays_away_for_the_cap(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    artifacts_dir: Path,
) -> None:
    await db(_scene)()
    server = live_server_factory()
    context = await browser.new_context(viewport={"width": 390, "height": 760})  # a phone
    shop = await pages.new(context)
    try:
        await shop.goto(f"{server.url}/widget-demo/")
        invitation = shop.get_by_role("dialog", name="Chat invitation")
        await expect(invitation).to_be_visible()
        await expect(invitation.get_by_role("button", name="No thanks")).to_be_visible()
        await shop.screenshot(path=str(artifacts_dir / "invitation-phone.png"))
        # Esc dismisses it, like "No thanks".
        await shop.keyboard.press("Escape")
        await expect(invitation).to_be_hidden()
        await _counted((1, 0, 1))

        # The next page: the widget says it was invited moments ago, the server keeps quiet.
        answer = await _check_answer(shop, f"{server.url}/widget-demo/?page=2")
        assert answer == {"invitation": None, "check_again_in": None}
        await expect(invitation).to_be_hidden()
        assert await db(_counts)() == (1, 0, 1)
    except BaseException:
        await pages.save_artifacts("invitation-dismiss")
        raise
    finally:
        await close_context(context)
