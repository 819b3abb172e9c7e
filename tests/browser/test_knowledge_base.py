"""The knowledge base in the console (issue 4): an agent with an active chat opens the panel,
searches as she types, inserts an article's link at the cursor of her reply and sends it; the
customer sees the link and can follow it to the public article page. Markup in an article's
title is text everywhere."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chat import services
from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, ArticleFactory, TopicFactory
from tests.helpers import start_chat, token_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

TITLE = "How to return an item"
# A title with markup: it must show as typed in the panel, never become an element.
ODD_TITLE = "Return <b>labels</b> explained"


def _scene() -> dict[str, object]:
    returns = TopicFactory(name="Returns", slug="returns", position=1)
    marta = AgentFactory(first_name="Marta", last_name="Silva")
    # Away: the router gives her nothing by itself; the chat is assigned below.
    AgentProfile.objects.create(user=marta, status=AgentProfile.Status.AWAY)
    ArticleFactory(
        title=TITLE,
        slug="how-to-return",
        topic=returns,
        tags="return, refund",
        body="You can return any item within **30 days** of delivery.",
    )
    ArticleFactory(title=ODD_TITLE, slug="return-labels", body="Print the label.")
    ArticleFactory(title="Return draft", slug="draft", is_published=False)
    ana = start_chat(topic=returns, name="Ana Lima", message="How do I send my boots back?")
    services.chat_assign(chat_id=ana.pk, agent=marta)
    return {"marta": marta, "ana": ana.pk, "ana_token": token_for(ana)}


@deadline(30)
async def test_an_agent_inserts_an_article_link_the_customer_follows(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    scene = await db(_scene)()
    server = live_server_factory()
    agent_ctx = await browser.new_context(viewport={"width": 1360, "height": 900})
    customer_ctx = await browser.new_context(viewport={"width": 420, "height": 760})
    # The customer's page finds its chat where the widget keeps it.
    stored = {
        "id": scene["ana"],
        "token": scene["ana_token"],
        "ws_url": f"{server.ws_url}/ws/chat/{scene['ana_token']}/",
    }
    await customer_ctx.add_init_script(
        f"localStorage.setItem('helpdesk.chat', {json.dumps(json.dumps(stored))});"
    )
    console = await pages.new(agent_ctx)
    customer = await pages.new(customer_ctx)
    article_url = f"{server.url}/help/how-to-return/"
    try:
        await customer.goto(f"{server.url}/chat/")
        await expect(customer.get_by_text("How do I send my boots back?")).to_be_visible()

        await login(console, server.url, scene["marta"].username)  # type: ignore[attr-defined]
        await (
            console.locator("#mine-list .chat-item", has_text="Ana Lima")
            .locator(".chat-item__open")
            .click()
        )
        pane = console.locator(f'.pane[data-chat-id="{scene["ana"]}"]')
        reply = pane.locator("textarea.hd-composer__input")
        await reply.fill("Hi Ana, here is how: ")

        # --- The panel opens on its search box; typing searches (no Enter needed).
        toggle = pane.get_by_role("button", name="Knowledge base", exact=True)
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        panel = pane.get_by_role("region", name="Knowledge base")
        search = panel.get_by_label("Search the knowledge base")
        await expect(search).to_be_focused()
        await search.press_sequentially("retur", delay=20)
        results = panel.locator(".kb-result")
        await expect(results).to_have_count(2)  # the draft is never offered
        # The chat's topic (Returns) comes first; the odd title is plain text.
        await expect(results.first.locator(".kb-result__title")).to_have_text(TITLE)
        await expect(results.first).to_contain_text("within 30 days of delivery")
        await expect(results.nth(1).locator(".kb-result__title")).to_have_text(ODD_TITLE)
        await expect(panel.locator("b")).to_have_count(0)
        await expect(panel.get_by_role("status")).to_have_text("2 articles found.")

        # --- Insert the link at the cursor (after what she typed), as text.
        await results.first.get_by_role("button", name=f"Insert link to {TITLE}").click()
        await expect(reply).to_have_value(f"Hi Ana, here is how: {TITLE}: {article_url}")
        await expect(reply).to_be_focused()
        await console.screenshot(path=str(screenshots_dir / "console-knowledge-base.png"))

        # Escape closes the panel and gives the focus back to its button.
        await search.focus()
        await search.press("Escape")
        await expect(panel).to_be_hidden()
        await expect(toggle).to_be_focused()

        await reply.press("Enter")
        await expect(pane.locator('.msg--agent[data-state="sent"]')).to_have_count(1)

        # --- The customer sees the link text, as a link, and follows it to the article.
        said = customer.locator(".msg--agent .msg__body", has_text=TITLE)
        await expect(said).to_have_text(f"Hi Ana, here is how: {TITLE}: {article_url}")
        link = said.get_by_role("link", name=article_url)
        await expect(link).to_have_attribute("href", article_url)
        async with customer_ctx.expect_page() as opened:
            await link.click()
        article_page = await opened.value
        await expect(article_page.get_by_role("heading", level=1)).to_have_text(TITLE)
        await expect(article_page.locator("#kb-article-body strong")).to_have_text("30 days")
    except BaseException:
        await pages.save_artifacts("knowledge-base")
        raise
    finally:
        await close_context(agent_ctx)
        await close_context(customer_ctx)
