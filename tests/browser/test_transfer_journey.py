"""Transfers end to end (issue 3): Alice passes a customer's chat to Bruno with a note; Bruno
gets a request card (sound and notification), accepts, and finds the chat open with the note
pinned on top and the whole history; the customer is told and keeps the conversation; Alice's
pane turns read-only. And an escalation a senior declines comes back to the sender with the
reason, the chat still theirs."""

from collections.abc import Callable

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from chat.models import Chat
from routing.models import AgentProfile, Transfer
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_console_keyboard import NOTIFY_SPIES
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

ONLINE_HINT = "Online — new chats are assigned to you"
# Markup in a note is text: it must show as typed, never become elements.
NOTE = "Ana wants size <b>40</b> instead of 39, order 4471. Stock checked: OK."


def _agent(*, first_name: str, topics: tuple = (), seniority: str = "agent") -> object:
    agent = AgentFactory(first_name=first_name, last_name="Agent")
    profile, _ = AgentProfile.objects.get_or_create(user=agent)
    profile.seniority = seniority
    profile.save()
    profile.topics.set(topics)
    return agent


def _team(*, receiver_seniority: str) -> tuple[object, object]:
    returns = TopicFactory(name="Returns", slug="returns", position=1)
    billing = TopicFactory(name="Billing", slug="billing", position=2)
    alice = _agent(first_name="Alice", topics=(returns,))
    if receiver_seniority == "senior":
        # A senior of both teams: online only once the chat is Alice's (see the test).
        return alice, _agent(first_name="Sara", topics=(returns, billing), seniority="senior")
    # Bruno handles Billing only: the automatic routing never gives him Returns.
    return alice, _agent(first_name="Bruno", topics=(billing,))


def _chat_state(chat_id: int) -> tuple[str, int | None, int]:
    chat = Chat.objects.get(pk=chat_id)
    return chat.status, chat.agent_id, chat.transfer_count


def _chat_of(name: str) -> int:
    return Chat.objects.get(customer__name=name).pk


async def _console_online(context: BrowserContext, pages: Pages, url: str, who: object) -> Page:
    page = await pages.new(context)
    await login(page, url, who.username)  # type: ignore[attr-defined]
    await page.get_by_role("radio", name="Online").check()
    await expect(page.locator("#status-hint")).to_have_text(ONLINE_HINT)
    return page


@deadline(40)
async def test_a_colleague_accepts_a_transfer_and_reads_the_note_first(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    alice, bruno = await db(_team)(receiver_seniority="agent")
    server = live_server_factory()
    url = server.url
    alice_ctx = await browser.new_context()
    bruno_ctx = await browser.new_context()
    ana_ctx = await browser.new_context()
    await bruno_ctx.add_init_script(NOTIFY_SPIES)
    try:
        alice_console = await _console_online(alice_ctx, pages, url, alice)
        bruno_console = await _console_online(bruno_ctx, pages, url, bruno)

        # Ana asks about Returns on the customer page: the chat goes to Alice.
        ana = await pages.new(ana_ctx)
        await ana.goto(f"{url}/chat/")
        await ana.locator("#cw-name").fill("Ana Lima")
        await ana.locator("#cw-topic").select_option("returns")
        await ana.locator("#cw-message").fill("My boots are too small.")
        await ana.get_by_role("button", name="Start chat").click()
        await expect(ana.locator("#cw-status")).to_have_text("You are chatting with Alice")
        chat_id = await db(_chat_of)("Ana Lima")

        alice_item = alice_console.locator("#mine-list .chat-item", has_text="Ana Lima")
        await alice_item.locator(".chat-item__open").click()
        alice_pane = alice_console.locator(f'.pane[data-chat-id="{chat_id}"]')
        await alice_pane.locator("textarea").fill("Hi Ana, which size do you need?")
        await alice_pane.locator("textarea").press("Enter")
        await expect(ana.locator(".msg--agent", has_text="which size")).to_have_count(1)

        # --- Alice transfers to Bruno, with a note.
        await alice_pane.get_by_role("button", name="Transfer", exact=True).click()
        dialog = alice_console.get_by_role("dialog", name="Transfer the chat with Ana Lima")
        await expect(dialog).to_be_visible()
        bruno_option = dialog.get_by_role("radio", name="Bruno")
        await expect(bruno_option).to_be_visible()
        await expect(dialog.locator(".transfer-dialog__agent", has_text="Bruno")).to_contain_text(
            "0 of 3 chats · does not handle Returns"
        )
        # The note is required.
        await bruno_option.check()
        await dialog.get_by_role("button", name="Send").click()
        await expect(dialog.get_by_role("alert")).to_contain_text("Write a note")
        await dialog.get_by_label("Note for the receiver").fill(NOTE)
        await expect(dialog.locator(".hd-counter")).to_have_text(f"{len(NOTE)} / 1000")
        await dialog.get_by_role("button", name="Send").click()
        await expect(dialog).to_have_count(0)

        # Alice keeps the chat (and can keep writing) until Bruno accepts.
        await expect(alice_pane.locator(".pane__transfer")).to_contain_text(
            "Waiting for Bruno to accept…"
        )
        await expect(alice_pane.get_by_role("button", name="Transfer", exact=True)).to_be_hidden()
        await alice_pane.locator("textarea").fill("One moment please, Ana.")
        await alice_pane.locator("textarea").press("Enter")
        await expect(ana.locator(".msg--agent", has_text="One moment please")).to_have_count(1)

        # --- Bruno gets a request card, with a sound and a notification.
        card = bruno_console.locator("#requests-list .transfer-card")
        await expect(card).to_have_count(1)
        await expect(card).to_contain_text("Alice asks you to take Ana Lima's chat")
        await expect(card.locator(".transfer-card__note")).to_have_text(f"Note: {NOTE}")
        await expect(card.locator(".transfer-card__note b")).to_have_count(0)
        await expect(card.get_by_role("timer")).to_contain_text("Answer within 0:")
        notes = await bruno_console.evaluate("window.__notes")
        assert any(title == "Alice asks you to take a chat" for title, _body in notes), notes
        await card.get_by_role("button", name="Accept").click()

        # --- Bruno: the chat opens with the note pinned on top, and the whole history.
        await expect(card).to_have_count(0)
        bruno_pane = bruno_console.locator(f'.pane[data-chat-id="{chat_id}"]')
        await expect(bruno_pane).to_be_visible()
        pinned = bruno_pane.locator(".pane__pinned")
        await expect(pinned).to_be_visible()
        await expect(pinned.locator(".pane__pinned-who")).to_contain_text("Note from Alice")
        await expect(pinned.locator(".pane__pinned-note")).to_have_text(NOTE)
        await expect(pinned.locator("b")).to_have_count(0)
        await expect(bruno_pane.locator(".pane__transfers")).to_have_text("transferred once")
        for said in ("My boots are too small.", "which size do you need?", "One moment please"):
            await expect(bruno_pane.locator(".msg", has_text=said)).to_have_count(1)
        assert await db(_chat_state)(chat_id) == ("active", bruno.pk, 1)  # type: ignore[attr-defined]

        # The customer is told and carries on with Bruno, without repeating herself.
        await expect(
            ana.locator(".msg--system", has_text="passed your chat to Bruno")
        ).to_have_count(1)
        await expect(ana.locator("#cw-status")).to_have_text("You are chatting with Bruno")
        await expect(ana.locator("body")).not_to_contain_text("4471")  # the note is internal

        # Alice's pane is read-only now, and says who has the chat.
        await expect(alice_pane.locator(".pane__notice")).to_contain_text(
            "Bruno has this chat now: it is read-only for you."
        )
        await expect(alice_pane.locator("textarea")).to_be_hidden()

        # The note can be dismissed; the conversation goes on with Bruno.
        await pinned.get_by_role("button", name="Dismiss the transfer note").click()
        await expect(pinned).to_be_hidden()
        await bruno_pane.locator("textarea").fill("Bruno here: size 40 is on its way.")
        await bruno_pane.locator("textarea").press("Enter")
        await expect(ana.locator(".msg--agent", has_text="size 40 is on its way")).to_have_count(1)
        # Alice's read-only pane keeps following the chat (it watches it), naming its author.
        passed_on = alice_pane.locator(".msg", has_text="size 40 is on its way")
        await expect(passed_on).to_have_count(1)
        await expect(passed_on.locator(".msg__author")).to_have_text("Bruno")
    except BaseException:
        await pages.save_artifacts("transfer-journey")
        raise
    finally:
        for context in (alice_ctx, bruno_ctx, ana_ctx):
            await close_context(context)


@deadline(40)
async def test_a_declined_escalation_returns_to_the_sender_with_the_reason(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    alice, sara = await db(_team)(receiver_seniority="senior")
    server = live_server_factory()
    url = server.url
    alice_ctx = await browser.new_context()
    sara_ctx = await browser.new_context()
    try:
        alice_console = await _console_online(alice_ctx, pages, url, alice)
        response = await alice_ctx.request.post(
            f"{url}/api/v1/public/chats/",
            data={"name": "Carla Dias", "topic": "returns", "message": "I was charged twice."},
        )
        assert response.status == 201, await response.text()
        chat_id = (await response.json())["id"]
        item = alice_console.locator("#mine-list .chat-item", has_text="Carla Dias")
        await item.locator(".chat-item__open").click()
        sara_console = await _console_online(sara_ctx, pages, url, sara)
        pane = alice_console.locator(f'.pane[data-chat-id="{chat_id}"]')

        # --- Alice escalates to a senior.
        await pane.get_by_role("button", name="Transfer", exact=True).click()
        dialog = alice_console.get_by_role("dialog", name="Transfer the chat with Carla Dias")
        await dialog.get_by_role("radio", name="Escalate to a senior").check()
        await expect(
            dialog.locator(".transfer-dialog__panel[data-panel='senior']")
        ).to_contain_text("1 available")
        await dialog.get_by_label("Note for the receiver").fill("Double charge, needs a refund.")
        await dialog.get_by_role("button", name="Escalate").click()
        await expect(pane.locator(".pane__transfer")).to_contain_text(
            "Escalated: waiting for Sara to accept…"
        )

        # --- Sara declines, with a reason.
        card = sara_console.locator("#requests-list .transfer-card")
        await expect(card).to_contain_text("Alice escalates Carla Dias's chat to you")
        await card.get_by_label("Reason to decline (optional)").fill(
            "Billing team handles refunds."
        )
        await card.get_by_role("button", name="Decline").click()
        await expect(card).to_have_count(0)

        # --- Back to Alice with the reason; the chat stays hers and writable.
        bar = pane.locator(".pane__transfer")
        await expect(bar).to_contain_text(
            "Sara declined the transfer: Billing team handles refunds. The chat stays with you."
        )
        await expect(pane.locator("textarea")).to_be_visible()
        await expect(pane.get_by_role("button", name="Transfer", exact=True)).to_be_visible()
        await bar.get_by_role("button", name="Dismiss").click()
        await expect(bar).to_be_hidden()
        assert await db(_chat_state)(chat_id) == ("active", alice.pk, 0)  # type: ignore[attr-defined]
        statuses = await db(
            lambda: list(Transfer.objects.values_list("kind", "status", "reason"))
        )()
        assert statuses == [("senior", "declined", "Billing team handles refunds.")]
    except BaseException:
        await pages.save_artifacts("transfer-decline")
        raise
    finally:
        for context in (alice_ctx, sara_ctx):
            await close_context(context)
