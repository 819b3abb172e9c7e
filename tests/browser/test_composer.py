"""The console composer (issue 4): an agent types `/gr`, picks the greeting from the menu and
sends it with the customer's first name filled in; a sentence they wrote before completes
with Tab; "lol" is held back by the tone guard until "Send anyway" (recorded as an
override); Alt+H sends the hold reply and the pane says "On hold"."""

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from chat import services as chat_services
from chat.models import Chat, Message
from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, CannedResponseFactory, ToneRuleFactory, TopicFactory
from tests.helpers import start_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

ONLINE_HINT = "Online — new chats are assigned to you"
LEARNED = "Let me look into your order right away"
GREETING = "Hi Ana, I'm Bruno. How can I help?"
HOLD = "Thanks for your patience, Ana. Let me check that for you; I'll be right back."


def _scene() -> Any:
    returns = TopicFactory(name="Returns", slug="returns", position=1)
    bruno = AgentFactory(first_name="Bruno", last_name="Agent")
    profile, _ = AgentProfile.objects.get_or_create(user=bruno)
    profile.topics.set([returns])
    CannedResponseFactory(
        shortcut="greeting",
        title="Greeting",
        body="Hi {customer.first_name|there}, I'm {agent.first_name|your agent}. How can I help?",
    )
    CannedResponseFactory(
        shortcut="order",
        title="Order status",
        body="Let me look up order {ask:Order number} for you, {customer.first_name|there}.",
    )
    CannedResponseFactory(
        shortcut="return-label",
        title="Return label (Returns)",
        scope="topic",
        topic=returns,
        body="I have emailed you a return label, {customer.first_name|there}.",
    )
    ToneRuleFactory(phrase="lol", kind="word", note="Keep it professional: no chat slang.")
    # An earlier chat: Bruno opened two answers the same way, so it is one of his phrases.
    earlier = start_chat(topic=returns, name="Rui Costa", email="rui@example.com")
    chat_services.chat_assign(chat_id=earlier.pk, agent=bruno)
    me = chat_services.Participant.agent(bruno)
    for rest in ("It shipped yesterday.", "One moment please."):
        chat_services.message_post(chat_id=earlier.pk, sender=me, body=f"{LEARNED}. {rest}")
    chat_services.chat_close(chat_id=earlier.pk, by=me)
    return bruno


def _agent_messages(customer: str) -> list[tuple[str, str, list[str]]]:
    chat = Chat.objects.get(customer__name=customer, status=Chat.Status.ACTIVE)
    rows = Message.objects.filter(chat=chat, kind=Message.Kind.AGENT).order_by("seq")
    return [(m.body, m.origin, m.tone_overrides) for m in rows]


async def _stored(customer: str, count: int) -> list[tuple[str, str, list[str]]]:
    for _ in range(50):
        rows = await db(_agent_messages)(customer)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"expected {count} agent messages, got {rows}")


@deadline(40)
async def test_quick_replies_completion_tone_guard_and_hold(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    bruno = await db(_scene)()
    server = live_server_factory()
    bruno_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    ana_ctx = await browser.new_context()
    try:
        console = await pages.new(bruno_ctx)
        await login(console, server.url, bruno.username)
        await console.get_by_role("radio", name="Online").check()
        await expect(console.locator("#status-hint")).to_have_text(ONLINE_HINT)

        # Ana starts a chat: it goes to Bruno.
        ana = await pages.new(ana_ctx)
        await ana.goto(f"{server.url}/chat/")
        await ana.locator("#cw-name").fill("Ana Lima")
        await ana.locator("#cw-topic").select_option("returns")
        await ana.locator("#cw-message").fill("My boots are too small.")
        await ana.get_by_role("button", name="Start chat").click()
        await expect(ana.locator("#cw-status")).to_have_text("You are chatting with Bruno")

        item = console.locator("#mine-list .chat-item", has_text="Ana Lima")
        await item.locator(".chat-item__open").click()
        pane = console.locator(".pane:not([hidden])")
        box = pane.locator("textarea.hd-composer__input")
        await expect(box).to_be_focused()

        # --- `/gr` opens the quick replies, filtered; the greeting is the active option.
        await box.press_sequentially("/gr")
        menu = pane.get_by_role("listbox", name="Quick replies")
        await expect(menu).to_be_visible()
        options = menu.get_by_role("option")
        await expect(options.first).to_contain_text("/greeting")
        await expect(options.first).to_have_attribute("aria-selected", "true")
        active = await options.first.get_attribute("id")
        await expect(box).to_have_attribute("aria-activedescendant", active or "")
        # Wider: `/` alone lists every reply of this chat (the topic's own too).
        await box.press("Backspace")
        await box.press("Backspace")
        await expect(options).to_have_count(3)
        await expect(menu).to_contain_text("/return-label")
        await box.press("ArrowDown")
        await expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        await console.screenshot(path=str(screenshots_dir / "console-canned.png"))
        await box.press_sequentially("gr")
        await expect(options).to_have_count(1)

        # Tab expands it in place, with the customer's and the agent's first names.
        await box.press("Tab")
        await expect(menu).to_be_hidden()
        await expect(box).to_have_value(GREETING)
        await expect(box).to_be_focused()
        await box.press("Enter")
        await expect(ana.locator(".msg--agent", has_text=GREETING)).to_have_count(1)
        assert (await _stored("Ana Lima", 1))[0] == (GREETING, "canned", [])

        # --- A sentence Bruno wrote before completes with Tab.
        await box.press_sequentially("Let me lo")
        hint = pane.locator(".composer-tools__suggestion")
        await expect(hint).to_contain_text(f"Tab to complete: {LEARNED}")
        await box.press("Tab")
        await expect(box).to_have_value(LEARNED)
        await expect(hint).to_be_hidden()
        await box.press_sequentially(".")
        await box.press("Enter")
        await expect(ana.locator(".msg--agent", has_text=LEARNED)).to_have_count(1)
        assert (await _stored("Ana Lima", 2))[1] == (f"{LEARNED}.", "", [])

        # --- "lol" is off the brand's voice: held back with the rule's note.
        await box.fill("Sure, that happens lol. Which size do you need?")
        await box.press("Enter")
        warning = pane.locator(".composer-tone")
        await expect(warning).to_be_visible()
        await expect(warning).to_contain_text("“lol”")
        await expect(warning).to_contain_text("Keep it professional: no chat slang.")
        await expect(box).to_have_value(re.compile("lol"))
        await expect(warning.get_by_role("button", name="Rephrase")).to_be_focused()
        await warning.get_by_role("button", name="Send anyway").click()
        await expect(warning).to_be_hidden()
        await expect(box).to_have_value("")
        await expect(ana.locator(".msg--agent", has_text="that happens lol")).to_have_count(1)
        assert (await _stored("Ana Lima", 3))[2] == (
            "Sure, that happens lol. Which size do you need?",
            "",
            ["lol"],
        )

        # --- Alt+H: the hold reply goes at once, and the pane says the chat is on hold.
        await box.press("Alt+h")
        await expect(ana.locator(".msg--agent", has_text=HOLD)).to_have_count(1)
        badge = pane.locator(".pane__hold")
        await expect(badge).to_be_visible()
        await expect(badge).to_contain_text("On hold")
        assert (await _stored("Ana Lima", 4))[3] == (HOLD, "hold", [])
        # The next answer ends the hold.
        await box.fill("Size 40 is in stock.")
        await box.press("Enter")
        await expect(badge).to_be_hidden()

        # --- A response that asks for a value: a labelled field first, Enter inserts.
        await box.press_sequentially("Sure. /order")
        await box.press(" ")  # `/order` + space expands like Tab
        order = pane.get_by_label("Order number")
        await expect(order).to_be_focused()
        await order.fill("A-1234")
        await order.press("Enter")
        await expect(box).to_have_value("Sure. Let me look up order A-1234 for you, Ana.")
        await expect(box).to_be_focused()

        # --- Saved as a personal quick reply; the API's refusal shows next to the field.
        await pane.get_by_role("button", name="Save as quick reply").click()
        dialog = console.get_by_role("dialog", name="Save as quick reply")
        await expect(dialog.get_by_label("Text")).to_have_value(
            "Sure. Let me look up order A-1234 for you, Ana."
        )
        await dialog.get_by_label("Title").fill("Order lookup <b>now</b>")
        await dialog.get_by_label("Shortcut").fill("Look up!")
        await dialog.get_by_role("button", name="Save").click()
        await expect(dialog.locator("#save-shortcut-error")).to_contain_text("A shortcut is")
        await expect(dialog.get_by_label("Shortcut")).to_be_focused()
        # That 400 is the answer under test, not a fault of the page.
        pages.errors[:] = [e for e in pages.errors if "status of 400" not in e]
        await dialog.get_by_label("Shortcut").fill("lookup")
        await dialog.get_by_role("button", name="Save").click()
        await expect(dialog).to_be_hidden()
        await expect(box).to_be_focused()
        await box.fill("/look")
        # Shortcuts starting with the text first, then titles and bodies holding it.
        await expect(options).to_have_count(2)
        await expect(options.nth(1)).to_contain_text("/order")
        await expect(options.first).to_contain_text("Order lookup <b>now</b>")
        await expect(options.first).to_contain_text("Personal")
        await expect(options.first.locator("b")).to_have_count(0)
        await box.press("Escape")
        await expect(menu).to_be_hidden()
        await expect(box).to_have_value("/look")
    except BaseException:
        await pages.save_artifacts("composer")
        raise
    finally:
        for context in (bruno_ctx, ana_ctx):
            await close_context(context)
