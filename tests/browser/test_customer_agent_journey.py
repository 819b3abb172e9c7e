"""The whole journey in a real browser: a customer on a shop page with the widget, an agent in
the console, over a real daphne with websockets (docs/protocol.md, shared/JOURNEYS.md)."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Frame, Page, expect

from chat.models import Chat, Message
from helpdesk.models import Topic
from tests.browser.support import Pages, close_context, db, deadline
from tests.conftest import LiveServer
from tests.factories import PASSWORD, AgentFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

XSS = "<script>window.__pwned=1</script><b>bold</b>"


async def login(page: Page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/console/")
    await expect(page).to_have_url(re.compile(r"/accounts/login/"))
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/console/$"))
    await expect(page.locator("#console-conn")).to_have_text("Connected")


async def open_widget(shop: Page) -> Frame:
    await shop.get_by_role("button", name="Chat with us").click()
    await expect(shop.locator("#helpdesk-widget-panel")).to_be_visible()
    handle = await shop.wait_for_selector("#helpdesk-widget-frame")
    frame = await handle.content_frame()
    assert frame is not None
    await frame.wait_for_load_state()
    return frame


def message_rows(chat_id: int) -> list[tuple[int, str]]:
    return list(Message.objects.filter(chat_id=chat_id).order_by("seq").values_list("seq", "body"))


@deadline(90)
async def test_customer_and_agent_journey(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    await db(TopicFactory)(name="Returns", slug="returns", position=1)
    await db(TopicFactory)(name="Billing", slug="billing", position=2)
    agent = await db(AgentFactory)(first_name="Marta", last_name="Silva")
    server = live_server_factory()

    customer_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    agent_ctx = await browser.new_context(viewport={"width": 1360, "height": 820})
    shop = await pages.new(customer_ctx)
    console = await pages.new(agent_ctx)
    try:
        # --- The customer finds the launcher on a shop page and fills the pre-chat form.
        await shop.goto(f"{server.url}/widget-demo/")
        chat = await open_widget(shop)
        await expect(chat.locator("#cw-name")).to_be_focused()

        await chat.get_by_role("button", name="Start chat").click()
        await expect(chat.locator("#cw-name-error")).to_have_text("Please tell us your name.")
        await expect(chat.locator("#cw-name")).to_be_focused()

        await chat.locator("#cw-name").fill("Ana Lima")
        transcript = chat.locator("#cw-consent-transcript")
        marketing = chat.locator("#cw-consent-marketing")
        await expect(transcript).to_be_disabled()
        await chat.locator("#cw-email").fill("ana@example.com")
        await expect(transcript).to_be_checked()
        await expect(marketing).not_to_be_checked()

        # A field error from the API lands next to its field: the topic closed meanwhile.
        await db(lambda: Topic.objects.filter(slug="billing").update(is_active=False))()
        await chat.locator("#cw-topic").select_option("billing")
        await chat.locator("#cw-message").fill("Where is my parcel?")
        await chat.get_by_role("button", name="Start chat").click()
        await expect(chat.locator("#cw-topic-error")).to_have_text("No such topic.")

        await chat.locator("#cw-topic").select_option("returns")
        await chat.get_by_role("button", name="Start chat").click()
        await expect(chat.locator(".msg--system").first).to_contain_text(
            "Hi Ana, thanks for reaching out"
        )
        await expect(chat.locator("#cw-status")).to_have_text("Waiting for an agent…")
        chat_row = await db(lambda: Chat.objects.select_related("customer").get())()
        assert chat_row.customer.consent_transcript and not chat_row.customer.consent_marketing
        chat_id = chat_row.pk

        # --- The agent logs in, sees the chat waiting in the queue and takes it.
        await login(console, server.url, agent.username)
        queued = console.locator("#queue-list .chat-item", has_text="Ana Lima")
        await expect(queued).to_contain_text("Returns")
        await expect(queued).to_contain_text("Where is my parcel?")
        await expect(queued.locator(".chat-item__timer")).to_have_attribute("data-wait", "green")
        await queued.get_by_role("button", name="Take").click()
        await expect(console.locator("#mine-list .chat-item", has_text="Ana Lima")).to_be_visible()
        await expect(console.locator("#queue-list .chat-item")).to_have_count(0)
        pane = console.locator(f'.pane[data-chat-id="{chat_id}"]')
        await expect(pane.locator(".pane__replying")).to_have_text("Replying to Ana Lima · Returns")
        await expect(chat.locator("#cw-status")).to_have_text("You are chatting with Marta")

        # --- Messages both ways, each shown once on each side; typing shown both ways.
        reply = pane.locator("textarea")
        await reply.fill("Hello Ana, let me check that for you.")
        await expect(chat.locator("#cw-typing")).to_contain_text("Marta is typing")
        await reply.press("Enter")
        await expect(
            chat.locator(".msg--agent .msg__body", has_text="Hello Ana, let me check")
        ).to_have_count(1)
        await expect(pane.locator('.msg--agent[data-state="sent"]')).to_have_count(1)
        # "joined" is stored without a live frame: the customer's gap check fetches it.
        joined = chat.locator(".msg--system", has_text="Marta joined the chat.")
        await expect(joined).to_have_count(1)
        await expect(chat.locator("#cw-typing")).to_be_hidden()

        composer = chat.locator("#cw-input")
        await composer.fill("Thanks! It is order https://example.com/orders/123.")
        await expect(pane.locator(".hd-typing")).to_contain_text("Ana Lima is typing")
        await composer.press("Enter")
        own = chat.locator(".msg--customer", has_text="Thanks! It is order")
        await expect(own).to_have_count(1)
        await expect(own).to_have_attribute("data-state", "sent")
        await expect(own.locator(".msg__state")).to_have_text("✓ Sent")
        seen = pane.locator(".msg--customer", has_text="Thanks! It is order")
        await expect(seen).to_have_count(1)
        link = seen.locator("a")
        await expect(link).to_have_attribute("href", "https://example.com/orders/123")
        await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
        await expect(link).to_have_attribute("target", "_blank")

        # --- Markup from the network is text, never HTML.
        await composer.fill(XSS)
        await composer.press("Enter")
        for side in (pane, chat):
            body = side.locator(".msg__body", has_text="window.__pwned")
            await expect(body).to_have_count(1)
            assert await body.inner_text() == XSS
            assert await side.locator(".msg__body b, .msg__body script").count() == 0
        assert await console.evaluate("typeof window.__pwned") == "undefined"
        assert await chat.evaluate("typeof window.__pwned") == "undefined"
        assert await shop.evaluate("typeof window.__pwned") == "undefined"

        await shop.screenshot(path=str(screenshots_dir / "widget.png"))

        # --- Escape closes the widget; news arriving meanwhile shows on the launcher.
        launcher = shop.locator("#helpdesk-widget-launcher")
        await chat.locator("#cw-input").press("Escape")
        await expect(shop.locator("#helpdesk-widget-panel")).to_be_hidden()
        await expect(launcher).to_be_focused()
        await reply.fill("Found it: your parcel is at the depot.")
        await reply.press("Enter")
        await expect(launcher).to_have_attribute("aria-label", "Chat with us, 1 new")
        await launcher.press("Enter")
        await expect(shop.locator("#helpdesk-widget-panel")).to_be_visible()
        await expect(launcher).to_have_accessible_name("Close chat")
        news = chat.locator(".msg--agent", has_text="parcel is at the depot")
        await expect(news).to_have_count(1)

        # --- The agent reloads mid-chat: the full history, exactly once.
        rows = await db(message_rows)(chat_id)
        await console.reload()
        pane = console.locator(f'.pane[data-chat-id="{chat_id}"]')
        await expect(pane.locator(".msg[data-seq]")).to_have_count(len(rows))
        shown = await pane.locator(".msg[data-seq]").evaluate_all(
            "els => els.map(e => [Number(e.dataset.seq),"
            " e.querySelector('.msg__body').textContent])"
        )
        assert [tuple(item) for item in shown] == rows
        await expect(pane.locator(".pane__replying")).to_have_text("Replying to Ana Lima · Returns")

        # --- The customer reloads, and a second tab shows the same conversation.
        await shop.reload()
        chat = await open_widget(shop)
        await expect(chat.locator(".msg[data-seq]")).to_have_count(len(rows))
        await expect(chat.locator("#cw-status")).to_have_text("You are chatting with Marta")
        second_tab = await pages.new(customer_ctx)
        await second_tab.set_viewport_size({"width": 1100, "height": 820})
        await second_tab.goto(f"{server.url}/chat/")
        await expect(second_tab.locator(".msg[data-seq]")).to_have_count(len(rows))
        await expect(second_tab.locator("#cw-status")).to_have_text("You are chatting with Marta")
        await second_tab.screenshot(path=str(screenshots_dir / "customer.png"))

        # --- The agent closes the chat (with confirmation); the customer sees it ended.
        await pane.get_by_role("button", name="Close chat").click()
        dialog = console.locator("dialog[open]")
        await expect(dialog).to_contain_text("End the chat with Ana Lima?")
        await dialog.get_by_role("button", name="Close chat").click()
        await expect(chat.locator("#cw-status")).to_have_text("Chat ended")
        await expect(chat.get_by_role("button", name="Start a new chat")).to_be_visible()
        await expect(chat.locator("#cw-composer")).to_be_hidden()
        await expect(chat.locator("#cw-ended-text")).to_contain_text("email you the transcript")
        await expect(console.locator("#mine-list .chat-item")).to_have_count(0)
        await expect(console.locator("#ended-list .chat-item", has_text="Ana Lima")).to_be_visible()
        await expect(pane.locator(".pane__notice")).to_have_text("You ended the chat.")
        status = await db(lambda: Chat.objects.get(pk=chat_id).status)()
        assert status == Chat.Status.CLOSED

        # Starting over forgets the old conversation.
        await chat.get_by_role("button", name="Start a new chat").click()
        await expect(chat.locator("#cw-form")).to_be_visible()
        assert await chat.evaluate("localStorage.getItem('helpdesk.chat')") is None
        # The other tab follows.
        await expect(second_tab.locator("#cw-form")).to_be_visible()
        await expect(second_tab.locator("#cw-conversation")).to_be_hidden()
    except BaseException:
        await pages.save_artifacts("journey")
        raise
    finally:
        await close_context(customer_ctx)
        await close_context(agent_ctx)
