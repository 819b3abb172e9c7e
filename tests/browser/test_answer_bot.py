"""The answer bot in real browsers over a real daphne (issue 9): a queued customer gets an
automated answer whose article title is hostile HTML, shown as text and labelled as automated;
"No" keeps them waiting, "Talk to a person" stops the bot, and the agent who takes the chat
sees the bot's message labelled too. Another customer says "Yes" and ends the chat, which
closes as resolved by the bot."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from cannedresponses.models import BotAnswer
from chat.models import Chat
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer, free_port
from tests.factories import AgentFactory, ArticleFactory, TopicBotFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

EAGER = {"CELERY_TASK_ALWAYS_EAGER": "true"}


def serve(factory: Callable[..., LiveServer]) -> LiveServer:
    """A live server whose public URL (the bot's article links) is its own."""
    port = free_port()
    return factory(port=port, env={**EAGER, "HELPDESK_PUBLIC_URL": f"http://127.0.0.1:{port}"})


HOSTILE = 'Return labels <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def _team(
    title: str = HOSTILE,
    body: str = "Print the return label and stick it on the parcel. <b>Bold</b>",
) -> object:
    topic = TopicFactory(name="Returns", slug="returns", position=1)
    TopicBotFactory(topic=topic)
    ArticleFactory(title=title, slug="return-labels", body=body, topic=topic)
    return AgentFactory(first_name="Marta", last_name="Silva")


async def start(page: Page, base_url: str, question: str) -> None:
    await page.goto(f"{base_url}/chat/")
    await page.locator("#cw-name").fill("Ana Lima")
    await page.locator("#cw-topic").select_option("returns")
    await page.locator("#cw-message").fill(question)
    await page.get_by_role("button", name="Start chat").click()
    await expect(page.locator("#cw-status")).to_have_text("Waiting for an agent…")


@deadline(120)
async def test_a_hostile_article_is_text_and_the_customer_asks_for_a_person(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    agent = await db(_team)()
    server = serve(live_server_factory)
    customer_ctx = await browser.new_context()
    agent_ctx = await browser.new_context(viewport={"width": 1360, "height": 820})
    customer = await pages.new(customer_ctx)
    console = await pages.new(agent_ctx)
    try:
        await start(customer, server.url, "How do I print a return label?")

        answer = customer.locator(".msg--bot")
        await expect(answer).to_have_count(1)
        await expect(answer.locator(".msg__bot-label")).to_have_text("Automated answer")
        link = answer.locator("a.bot-article__title")
        # The title is text: every character shown, no element made of it, nothing run.
        await expect(link).to_have_text(HOSTILE)
        await expect(link).to_have_attribute("href", f"{server.url}/help/return-labels/")
        assert await customer.locator("#cw-messages img, #cw-messages script").count() == 0
        assert await customer.evaluate("window.__pwned === undefined")
        await expect(answer.locator(".bot-article__excerpt")).to_contain_text("<b>Bold</b>")

        # "No": recorded; they keep waiting, a person is one click away.
        await answer.get_by_role("button", name="No").click()
        await expect(answer.locator(".bot-feedback")).to_contain_text("Thanks for telling us")
        person = customer.get_by_role("button", name="Talk to a person")
        await expect(person).to_be_visible()
        await person.click()
        await expect(person).to_be_hidden()
        await expect(customer.locator("#cw-bot-note")).to_contain_text("you keep your place")
        await expect(customer.locator("#cw-status")).to_have_text("Waiting for an agent…")
        assert await db(lambda: list(BotAnswer.objects.values_list("feedback", flat=True)))() == [
            "rejected"
        ]

        # The agent takes the chat and reads the bot's answer, labelled, the title as text.
        await login(console, server.url, agent.username)
        queued = console.locator("#queue-list .chat-item", has_text="Ana Lima")
        await queued.get_by_role("button", name="Take").click()
        chat_id = await db(lambda: Chat.objects.get().pk)()
        pane = console.locator(f'.pane[data-chat-id="{chat_id}"]')
        bot = pane.locator(".msg--bot")
        await expect(bot.locator(".msg__bot-label")).to_have_text("Bot (automated)")
        await expect(bot.locator("a.bot-article__title")).to_have_text(HOSTILE)
        assert await console.evaluate("window.__pwned === undefined")
        await expect(customer.locator("#cw-status")).to_have_text("You are chatting with Marta")
        await expect(customer.locator(".bot-feedback button")).to_have_count(0)
    finally:
        await close_context(customer_ctx)
        await close_context(agent_ctx)


@deadline(90)
async def test_yes_ends_the_chat_as_resolved_by_the_bot(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    await db(_team)(
        "How to print a return label",
        "Open your order, choose **Return an item** and print the label; stick it on the parcel.",
    )
    server = serve(live_server_factory)
    context = await browser.new_context(viewport={"width": 440, "height": 760})
    customer = await pages.new(context)
    try:
        await start(customer, server.url, "Where do I print the return label?")
        answer = customer.locator(".msg--bot")
        await expect(answer.get_by_role("button", name="Yes")).to_be_visible()
        await expect(customer.get_by_role("button", name="Talk to a person")).to_be_visible()
        await customer.screenshot(path=screenshots_dir / "widget-answer-bot.png")
        await answer.get_by_role("button", name="Yes").click()
        end = answer.get_by_role("button", name="End the chat")
        await expect(end).to_be_focused()
        await end.click()
        await expect(customer.locator("#cw-status")).to_have_text("Chat ended")
        await expect(customer.get_by_role("button", name="Talk to a person")).to_be_hidden()
        chat = await db(lambda: Chat.objects.get())()
        assert (chat.status, chat.close_reason) == ("closed", "resolved_by_bot")
        assert re.search("Automated answer", await customer.locator("#cw-messages").inner_text())
    finally:
        await close_context(context)
