"""Leaving on a good note, in a real browser: the agent closes the chat, the customer (who came
back through an email link, `/chat/#token=...`) rates it 5 with a comment, sees the thanks,
then changes it to 4. One rating is stored, with the 4."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chat import services
from chat.models import Chat
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory
from tests.helpers import token_for
from transcripts.models import Rating

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)


@db
def scene() -> tuple[str, Chat]:
    marta = AgentFactory(first_name="Marta")
    chat = services.chat_start(
        topic=TopicFactory(name="Returns"), name="Ana Lima", first_message="Where is my parcel?"
    )
    services.chat_assign(chat_id=chat.pk, agent=marta)
    return marta.username, chat


@deadline(40)
async def test_the_customer_rates_the_ended_chat_and_edits_it(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    username, chat_row = await scene()
    server = live_server_factory()
    customer_ctx = await browser.new_context(viewport={"width": 420, "height": 760})
    agent_ctx = await browser.new_context(viewport={"width": 1360, "height": 820})
    customer = await pages.new(customer_ctx)
    console = await pages.new(agent_ctx)
    try:
        # The email link opens the chat; the token leaves the address bar at once.
        await customer.goto(f"{server.url}/chat/#token={token_for(chat_row)}")
        await expect(customer).to_have_url(f"{server.url}/chat/")
        await expect(customer.locator("#cw-status")).to_have_text("You are chatting with Marta")
        stored = await customer.evaluate("JSON.parse(localStorage.getItem('helpdesk.chat')).id")
        assert stored == chat_row.pk

        await login(console, server.url, username)
        await console.locator("#mine-list .chat-item", has_text="Ana Lima").click()
        pane = console.locator(f'.pane[data-chat-id="{chat_row.pk}"]')
        await pane.get_by_role("button", name="Close chat").click()
        await console.locator("dialog[open]").get_by_role("button", name="Close chat").click()

        await expect(customer.locator("#cw-status")).to_have_text("Chat ended")
        rate = customer.get_by_role("group", name="How was your chat?")
        await expect(rate).to_be_visible()
        await expect(rate.get_by_role("radio")).to_have_count(5)
        send = customer.get_by_role("button", name="Send", exact=True)

        # Send without a score: told what to do, nothing stored.
        await send.click()
        await expect(customer.locator("#cw-rate-error")).to_have_text("Choose a score from 1 to 5.")

        # The radios are drawn as buttons: a pointer clicks the label.
        await customer.locator('label[for="cw-rate-5"]').click()
        await expect(rate.get_by_role("radio", name=re.compile(r"^5 out of 5"))).to_be_checked()
        await customer.get_by_label("Comment").fill("Marta was <b>great</b>")
        await send.click()
        thanks = customer.get_by_role("status").filter(has_text="Thanks for your feedback")
        await expect(thanks).to_be_visible()
        await customer.screenshot(path=str(screenshots_dir / "customer-rating.png"))
        first = await db(lambda: list(Rating.objects.values_list("score", "comment")))()
        assert first == [(5, "Marta was <b>great</b>")]

        # Edit: the form comes back with the 5 and the comment; the keyboard moves to 4.
        await customer.get_by_role("button", name="Edit your rating").click()
        five = rate.get_by_role("radio", name=re.compile(r"^5 out of 5"))
        await expect(five).to_be_checked()
        await expect(five).to_be_focused()
        await customer.keyboard.press("ArrowLeft")
        await expect(rate.get_by_role("radio", name=re.compile(r"^4 out of 5"))).to_be_checked()
        await send.click()
        await expect(customer.locator("#cw-rated")).to_be_visible()
        await expect(customer.get_by_role("button", name="Edit your rating")).to_be_visible()

        # A reload knows the chat was rated: thanks, not the form.
        await customer.reload()
        await expect(customer.locator("#cw-rated")).to_be_visible()
        await expect(customer.locator("#cw-rate")).to_be_hidden()
        rows = await db(lambda: list(Rating.objects.values_list("chat_id", "score", "comment")))()
        assert rows == [(chat_row.pk, 4, "Marta was <b>great</b>")]
    finally:
        await close_context(customer_ctx)
        await close_context(agent_ctx)
