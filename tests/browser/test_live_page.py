"""The supervisors' live page (issue 6): a customer's chat shows in its topic's queue within a
second, and leaves it when an agent gets it, whose load the page shows."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import PASSWORD, AgentFactory, SupervisorFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _scene() -> tuple[object, object]:
    billing = TopicFactory(name="Billing", slug="billing")
    bruno = AgentFactory(first_name="Bruno", last_name="Agent")
    # Online but without a console: the chat waits until he opens one.
    AgentProfile.objects.create(user=bruno, status=AgentProfile.Status.ONLINE).topics.set([billing])
    maria = SupervisorFactory(first_name="Maria", last_name="Lead")
    return bruno, maria


@deadline(20)
async def test_the_live_page_follows_a_chat_from_the_queue_to_an_agent(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    bruno, maria = await db(_scene)()
    server = live_server_factory()
    maria_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    bruno_ctx = await browser.new_context()
    live = await pages.new(maria_ctx)
    bruno_console = await pages.new(bruno_ctx)
    try:
        # The site's login page (the admin's has no favicon: a 404 the page watcher reports).
        await live.goto(f"{server.url}/accounts/login/?next=/admin/live/")
        await live.get_by_label("Username").fill(maria.username)
        await live.get_by_label("Password").fill(PASSWORD)
        await live.get_by_role("button", name="Log in").click()
        await expect(live).to_have_url(re.compile(r"/admin/live/$"))
        await expect(live.locator("#live-conn")).to_have_text("Live")
        queued = live.locator("#live-topics tr", has_text="Billing").locator("[data-queued]")
        await expect(queued).to_have_text("0")

        # --- A customer starts a chat: the queue shows it within a second.
        response = await bruno_ctx.request.post(
            f"{server.url}/api/v1/public/chats/",
            data={"name": "Ana Lima", "topic": "billing", "message": "Where is my invoice?"},
        )
        assert response.status == 201, await response.text()
        await expect(queued).to_have_text("1", timeout=2_000)

        # --- Bruno opens his console (online): the router gives him the chat.
        await login(bruno_console, server.url, bruno.username)
        await expect(queued).to_have_text("0", timeout=2_000)
        agent = live.locator("#live-agents li", has_text="Bruno Agent")
        await expect(agent.locator(".live__chats")).to_have_text("1/3", timeout=2_000)
        await expect(agent.locator(".live__dot")).to_have_attribute("data-status", "online")
        await live.screenshot(path=str(screenshots_dir / "admin-live.png"), full_page=True)
    except BaseException:
        await pages.save_artifacts("live-page")
        raise
    finally:
        for context in (maria_ctx, bruno_ctx):
            await close_context(context)
