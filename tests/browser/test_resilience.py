"""The server dies under a connected customer: nothing typed meanwhile is lost or doubled."""

import asyncio
from collections.abc import Callable

import pytest
from playwright.async_api import Browser, expect

from chat.models import Message
from tests.browser.support import Pages, close_context, db, deadline
from tests.conftest import LiveServer
from tests.factories import TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

OFFLINE_MESSAGE = "Are you still there? My parcel never came."


@deadline(90)
async def test_message_typed_while_server_is_down_is_delivered_once(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    await db(TopicFactory)(name="Returns", slug="returns")
    server = live_server_factory()
    context = await browser.new_context(viewport={"width": 420, "height": 780})
    page = await pages.new(context)
    try:
        await page.goto(f"{server.url}/chat/")
        await page.locator("#cw-name").fill("Ana Lima")
        await page.locator("#cw-topic").select_option("returns")
        await page.locator("#cw-message").fill("Where is my parcel?")
        await page.get_by_role("button", name="Start chat").click()
        await expect(page.locator("#cw-status")).to_have_text("Waiting for an agent…")
        await expect(page.locator(".msg[data-seq]")).to_have_count(2)
        banner = page.locator("#cw-banner")
        await expect(banner).to_be_hidden()

        server.stop(kill=True)
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text("Reconnecting")

        composer = page.locator("#cw-input")
        await composer.fill(OFFLINE_MESSAGE)
        await composer.press("Enter")
        mine = page.locator(".msg--customer", has_text=OFFLINE_MESSAGE)
        await expect(mine).to_have_attribute("data-state", "sending")
        await expect(mine.locator(".msg__state")).to_contain_text("Sending")
        await asyncio.sleep(1)
        await expect(mine).to_have_attribute("data-state", "sending")

        # Same port, as after a crash and restart; the page reconnects, resumes and resends.
        await asyncio.to_thread(live_server_factory, port=server.port)
        await expect(mine).to_have_attribute("data-state", "sent", timeout=25_000)
        await expect(banner).to_be_hidden()
        await expect(page.locator(".msg--customer", has_text=OFFLINE_MESSAGE)).to_have_count(1)
        await expect(page.locator(".msg[data-seq]")).to_have_count(3)
        stored = await db(lambda: Message.objects.filter(body=OFFLINE_MESSAGE).count())()
        assert stored == 1
        # Nothing waits in the outbox any more.
        outbox = await page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('helpdesk.outbox.'))"
        )
        assert outbox == []
    except BaseException:
        await pages.save_artifacts("resilience")
        raise
    finally:
        await close_context(context)
