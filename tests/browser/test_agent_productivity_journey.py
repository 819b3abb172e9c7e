"""Issue 4's journey in one go: an agent with two chats types `/gr` and sends the greeting
with the customer's first name, switches between the chats and sees each one's summary,
finds an article in the knowledge base and sends its link, and is warned before sending a
word off the brand's voice."""

from collections.abc import Callable

import pytest
from playwright.async_api import Browser, expect

from chat import services as chat_services
from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import (
    AgentFactory,
    ArticleFactory,
    CannedResponseFactory,
    ToneRuleFactory,
    TopicFactory,
)
from tests.helpers import start_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)


def _scene() -> dict:
    returns = TopicFactory(name="Returns", slug="returns")
    billing = TopicFactory(name="Billing", slug="billing")
    bruno = AgentFactory(first_name="Bruno")
    # Away: the two chats below are his, nothing else is routed while the test runs.
    AgentProfile.objects.create(user=bruno, status=AgentProfile.Status.AWAY)
    # Not `/greet`: that one would also be sent by itself on assignment (the auto greeting).
    CannedResponseFactory(
        shortcut="greeting", title="Greeting", body="Hi {customer.first_name|there}, I'm Bruno."
    )
    ToneRuleFactory(phrase="idk", kind="acronym", note="Say: let me find out for you.")
    ArticleFactory(title="How to return an item", slug="how-to-return", topic=returns, body="Easy.")
    chats = {}
    for name, topic, question in (
        ("Ana Lima", returns, "Can I return boots?"),
        ("Rui Costa", billing, "I was charged twice."),
    ):
        chat = start_chat(topic=topic, name=name, message=question, email=f"{name[:3]}@x.io")
        chat_services.chat_assign(chat_id=chat.pk, agent=bruno)
        chats[name] = chat.pk
    return {"bruno": bruno, **chats}


@deadline(45)
async def test_greet_switch_summaries_link_an_article_and_mind_the_tone(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    scene = await db(_scene)()
    server = live_server_factory()
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        console = await pages.new(context)
        await login(console, server.url, scene["bruno"].username)

        async def open_chat(name: str):  # type: ignore[no-untyped-def]
            await (
                console.locator("#mine-list .chat-item", has_text=name)
                .locator(".chat-item__open")
                .click()
            )
            return console.locator(f'.pane[data-chat-id="{scene[name]}"]')

        # --- Ana: `/gr` + Tab expands the greeting with her first name; Enter sends it.
        ana = await open_chat("Ana Lima")
        box = ana.locator("textarea.hd-composer__input")
        await box.press_sequentially("/gr")
        await expect(ana.get_by_role("listbox", name="Quick replies")).to_be_visible()
        await box.press("Tab")
        await expect(box).to_have_value("Hi Ana, I'm Bruno.")
        await box.press("Enter")
        await expect(ana.locator(".msg--agent", has_text="Hi Ana, I'm Bruno.")).to_have_count(1)
        first = ana.locator('.pane__aside [data-quote="first"] .summary__quote')
        await expect(first).to_have_text("Can I return boots?")

        # --- Rui: his own summary; then back to Ana, hers again.
        rui = await open_chat("Rui Costa")
        await expect(rui.locator('.pane__aside [data-quote="first"] .summary__quote')).to_have_text(
            "I was charged twice."
        )
        await expect(rui.locator(".pane__aside .summary__unanswered")).to_have_text("Unanswered: 1")
        ana = await open_chat("Ana Lima")
        await expect(first).to_have_text("Can I return boots?")
        await expect(ana.locator(".pane__aside .summary__canned")).to_contain_text("1 of 1")
        # The chat's transcript, downloadable from the panel (what the customer would get).
        download = ana.locator(".summary__downloads a", has_text="HTML")
        href = f"/console/chats/{scene['Ana Lima']}/transcript.html"
        await expect(download).to_have_attribute("href", href)
        response = await console.request.get(f"{server.url}{href}")
        assert response.status == 200 and "Hi Ana, I&#x27;m Bruno." in await response.text()

        # --- The knowledge base: search, insert the link, send it.
        await ana.get_by_role("button", name="Knowledge base", exact=True).click()
        panel = ana.get_by_role("region", name="Knowledge base")
        await panel.get_by_label("Search the knowledge base").press_sequentially("return")
        result = panel.locator(".kb-result").first
        await expect(result.locator(".kb-result__title")).to_have_text("How to return an item")
        await result.get_by_role("button", name="Insert link to How to return an item").click()
        await expect(box).to_have_value(f"How to return an item: {server.url}/help/how-to-return/")
        await box.press("Enter")
        await expect(ana.locator(".msg--agent", has_text="/help/how-to-return/")).to_have_count(1)

        # --- "idk" is off the brand's voice: a warning before anything is sent.
        await box.fill("idk, let me ask.")
        await box.press("Enter")
        warning = ana.locator(".composer-tone")
        await expect(warning).to_contain_text("Say: let me find out for you.")
        await expect(ana.locator(".msg--agent", has_text="idk")).to_have_count(0)
        await warning.get_by_role("button", name="Rephrase").click()
        await box.fill("Let me find out for you.")
        await box.press("Enter")
        await expect(ana.locator(".msg--agent", has_text="Let me find out")).to_have_count(1)
    except BaseException:
        await pages.save_artifacts("productivity-journey")
        raise
    finally:
        await close_context(context)
