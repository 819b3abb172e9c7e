"""Difficult customers in real browsers over a real daphne (issue 4): an agent ends an abusive
customer's chat with "End & block" and a reason; the customer's page shows an ordinary end of
chat; the same browser starting again, even with another email, sees the polite refusal and
starts nothing."""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chat.models import Chat
from helpdesk.models import Customer, CustomerBlock
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

# The agent takes the chat from the queue by hand: no router in the way.
MANUAL = {"HELPDESK_ROUTING_POLICY": "routing.policies.ManualPolicy"}
REASON = "Insults and threats after two warnings. <b>not markup</b>"


def _scene() -> object:
    TopicFactory(name="Returns", slug="returns")
    return AgentFactory(first_name="Bruno", last_name="Agent")


def _stored() -> tuple[list[str], list[tuple[str, str, str, int | None]]]:
    customers = list(Customer.objects.values_list("browser_key", flat=True))
    blocks = list(CustomerBlock.objects.values_list("email", "browser_key", "reason", "chat_id"))
    return customers, blocks


@deadline(40)
async def test_an_agent_blocks_a_customer_who_then_cannot_start_again(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    bruno = await db(_scene)()
    server = live_server_factory(env=MANUAL)
    customer_ctx = await browser.new_context()
    agent_ctx = await browser.new_context()
    visitor = await pages.new(customer_ctx)
    console = await pages.new(agent_ctx)
    try:
        # --- The customer starts a chat from the customer page.
        await visitor.goto(f"{server.url}/chat/")
        await visitor.get_by_label("Your name").fill("Tom Troll")
        await visitor.locator("#cw-email").fill("tom@example.com")
        await visitor.locator("#cw-topic").select_option("returns")
        await visitor.locator("#cw-message").fill("You are all useless!")
        await visitor.get_by_role("button", name="Start chat").click()
        await expect(visitor.locator("#cw-status")).to_have_text("Waiting for an agent…")
        browser_key = await visitor.evaluate("localStorage.getItem('helpdesk.browser')")
        assert browser_key and len(browser_key) == 36

        # --- Bruno takes it and blocks the customer.
        await login(console, server.url, bruno.username)
        await (
            console.locator("#queue-list .chat-item", has_text="Tom Troll")
            .locator(".chat-item__open")
            .click()
        )
        pane = console.locator(".pane:not([hidden])")
        await pane.get_by_role("button", name="Take chat").click()
        block_button = pane.get_by_role("button", name="End & block")
        await expect(block_button).to_be_visible()
        await block_button.click()

        dialog = console.get_by_role("dialog", name="End the chat and block Tom Troll?")
        await expect(dialog).to_be_visible()
        reason = dialog.get_by_label("Reason")
        await expect(reason).to_be_focused()
        # A reason is required: nothing is sent without one.
        await dialog.get_by_role("button", name="End chat & block").click()
        await expect(dialog.get_by_role("alert")).to_contain_text("say why")
        await expect(reason).to_have_attribute("aria-invalid", "true")
        # The address choice is offered, off by default.
        address = dialog.get_by_label("Also block their network address for")
        await expect(address).not_to_be_checked()
        await expect(dialog.get_by_label("For how long")).to_be_disabled()
        await reason.fill(REASON)
        await console.screenshot(path=str(screenshots_dir / "console-block-dialog.png"))
        await dialog.get_by_role("button", name="End chat & block").click()

        await expect(dialog).to_be_hidden()
        await expect(
            console.locator(".console-toast", has_text="Tom Troll is blocked")
        ).to_be_visible()
        await expect(block_button).to_be_hidden()  # the closed chat frame is applied
        # Whichever of `blocked` and the closed chat frame came first, no false alarm.
        await expect(console.locator(".console-toast--warning")).to_have_count(0)

        # --- The customer sees the chat end like any other, and nothing of the block.
        await expect(visitor.locator("#cw-ended-title")).to_have_text("Chat ended")
        await expect(
            visitor.locator(".msg--system", has_text="Chat ended by Bruno")
        ).to_be_visible()
        page_text = (await visitor.locator("#customer-chat").inner_text()).lower()
        assert "block" not in page_text and "insults" not in page_text

        # --- Starting again from the same browser, with another email: a polite refusal.
        await visitor.get_by_role("button", name="Start a new chat").click()
        await visitor.get_by_label("Your name").fill("Tom T.")
        await visitor.locator("#cw-email").fill("another@example.com")
        await visitor.locator("#cw-topic").select_option("returns")
        await visitor.locator("#cw-message").fill("Hello again")
        await visitor.get_by_role("button", name="Start chat").click()
        refusal = visitor.locator("#cw-refused")
        await expect(refusal).to_be_visible()
        await expect(refusal).to_be_focused()
        await expect(visitor.locator("#cw-refused-text")).to_have_text(
            "We're sorry, we can't start a chat with you right now. "
            "If you think this is a mistake, please contact us another way."
        )
        await expect(visitor.locator("#cw-form")).to_be_hidden()
        await visitor.screenshot(path=str(screenshots_dir / "customer-blocked.png"))

        customers, blocks = await db(_stored)()
        chat_id = await db(lambda: Chat.objects.get().pk)()  # one chat: the second never began
        assert customers == [browser_key]
        assert blocks == [("tom@example.com", browser_key, REASON, chat_id)]
    except BaseException:
        await pages.save_artifacts("block-customer")
        raise
    finally:
        for context in (customer_ctx, agent_ctx):
            await close_context(context)
