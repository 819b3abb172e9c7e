"""Proactive chat and the answer bot together, in real browsers over a real daphne (issue 9): on
a matching page of the widget demo an invitation appears after the rule's time, is accepted, the
queued chat gets an automated answer offering an article, the customer asks for a person, and
the agent who takes the chat from the queue reads the bot's exchange, labelled as automated."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Response, expect

from cannedresponses.models import BotAnswer, BotChat
from chat.models import Chat
from routing.models import InvitationTally
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer, free_port
from tests.factories import ArticleFactory, InvitationRuleFactory, TopicBotFactory, TopicFactory
from tests.routing.conftest import make_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

INVITATION = "Questions about sizes? We're online and happy to help."
TITLE = "Returning boots that do not fit"
QUESTION = "Can I return boots that do not fit?"


def _scene() -> Any:
    topic = TopicFactory(name="Product questions", slug="product-questions")
    TopicBotFactory(topic=topic)
    ArticleFactory(
        title=TITLE,
        slug="return-boots",
        body="Print the return label from your order page and send the boots back in 30 days.",
        topic=topic,
    )
    # A short wait keeps the test quick (the demo's own rule waits 10 s).
    InvitationRuleFactory(
        topic=topic, url_patterns="/widget-demo/*", min_seconds_on_page=1, text=INVITATION
    )
    # The topic as her skill; she chooses Online in her console (no invitation before that).
    return make_agent(
        topics=[topic], status="offline", present=False, first_name="Marta", last_name="Silva"
    )


def serve(factory: Callable[..., LiveServer]) -> LiveServer:
    """A server where the chat waits in the queue although Marta is available (the manual
    policy assigns nothing: agents take chats), so the bot answers while it waits. Eager
    Celery runs the bot's task in the server; the article links point at the server itself."""
    port = free_port()
    return factory(
        port=port,
        env={
            "HELPDESK_ROUTING_POLICY": "routing.policies.ManualPolicy",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "HELPDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        },
    )


def _outcome() -> tuple[Any, ...]:
    chat = Chat.objects.select_related("agent", "topic").get()
    bot_chat = BotChat.objects.get(chat=chat)
    answers = list(BotAnswer.objects.filter(chat=chat).values_list("question", "feedback"))
    tally = InvitationTally.objects.values_list("shown", "accepted", "dismissed").get()
    return (
        chat.status,
        chat.agent.first_name,
        chat.topic.slug,
        bot_chat.human_requested_at is not None,
        answers,
        tally,
    )


@deadline(60)
async def test_an_accepted_invitation_gets_a_bot_answer_then_an_agent_takes_over(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    marta = await db(_scene)()
    server = serve(live_server_factory)
    customer_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    agent_ctx = await browser.new_context(viewport={"width": 1360, "height": 820})
    shop = await pages.new(customer_ctx)
    console = await pages.new(agent_ctx)
    checks: list[Response] = []
    shop.on("response", lambda r: checks.append(r) if "/invitations/check/" in r.url else None)
    try:
        # --- Marta opens her console and goes online: the topic has an agent available.
        await login(console, server.url, marta.username)
        await console.get_by_role("radio", name="Online").check()
        await expect(console.locator("#status-hint")).to_have_text(
            "Online — new chats are assigned to you"
        )

        # --- The visitor reads the shop page; after the rule's second the invitation shows.
        await shop.goto(f"{server.url}/widget-demo/")
        invitation = shop.get_by_role("dialog", name="Chat invitation")
        await expect(invitation).to_be_visible()
        await expect(invitation).to_contain_text(INVITATION)
        # Not at once: only a check made after a second on the page was answered with it.
        answered = [(r.request.post_data_json, await r.json()) for r in checks]
        assert answered[0][0]["seconds_on_page"] < 1
        assert answered[0][1]["invitation"] is None
        shown = [sent for sent, answer in answered if answer["invitation"]]
        assert len(shown) == 1
        assert shown[0]["seconds_on_page"] >= 1

        await invitation.get_by_role("button", name="Chat now").click()
        await expect(invitation).to_be_hidden()
        # "Chat now" opened the panel itself (the launcher would close it again).
        await expect(shop.locator("#helpdesk-widget-panel")).to_be_visible()
        chat = await (await shop.wait_for_selector("#helpdesk-widget-frame")).content_frame()
        assert chat is not None
        await expect(chat.locator("#cw-topic")).to_have_value("product-questions")
        await chat.locator("#cw-name").fill("Ana Lima")
        await chat.locator("#cw-message").fill(QUESTION)
        await chat.get_by_role("button", name="Start chat").click()
        await expect(chat.locator("#cw-status")).to_have_text("Waiting for an agent…")

        # --- The bot offers the article while the chat waits.
        answer = chat.locator(".msg--bot")
        await expect(answer).to_have_count(1)
        await expect(answer.locator(".msg__bot-label")).to_have_text("Automated answer")
        link = answer.locator("a.bot-article__title")
        await expect(link).to_have_text(TITLE)
        await expect(link).to_have_attribute("href", f"{server.url}/help/return-boots/")

        # --- The customer wants a person: the bot stops, the chat keeps its place.
        person = chat.get_by_role("button", name="Talk to a person")
        await person.click()
        await expect(person).to_be_hidden()
        await expect(chat.locator("#cw-bot-note")).to_contain_text("you keep your place")
        await expect(chat.locator("#cw-status")).to_have_text("Waiting for an agent…")

        # --- Marta takes the chat and sees what the bot offered, labelled as automated.
        queued = console.locator("#queue-list .chat-item", has_text="Ana Lima")
        await queued.get_by_role("button", name="Take").click()
        chat_id = await db(lambda: Chat.objects.get().pk)()
        pane = console.locator(f'.pane[data-chat-id="{chat_id}"]')
        await expect(pane).to_contain_text(QUESTION)
        bot = pane.locator(".msg--bot")
        await expect(bot.locator(".msg__bot-label")).to_have_text("Bot (automated)")
        await expect(bot.locator("a.bot-article__title")).to_have_text(TITLE)
        await expect(bot.locator("a.bot-article__title")).to_have_attribute(
            "href", f"{server.url}/help/return-boots/"
        )
        await expect(chat.locator("#cw-status")).to_have_text("You are chatting with Marta")
        await console.screenshot(path=str(screenshots_dir / "console-bot-handover.png"))

        assert await db(_outcome)() == (
            "active",
            "Marta",
            "product-questions",
            True,
            [(QUESTION, "")],
            (1, 1, 0),
        )
    except BaseException:
        await pages.save_artifacts("proactive-bot")
        raise
    finally:
        await close_context(customer_ctx)
        await close_context(agent_ctx)
