"""Leave a message instead of waiting, in real browsers over a real daphne (issue 3): a customer
in the widget waits with no agent online, is offered to leave a message, leaves one and sees its
reference; outside a topic's hours the pre-chat form leaves a message instead; an agent answers
from /console/tickets/ and the answer is really emailed (the embedded file backend)."""

import re
from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.async_api import Browser, expect

from helpdesk.models import Ticket
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login, open_widget
from tests.conftest import LiveServer
from tests.factories import AgentFactory, BusinessHoursFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

REFERENCE = re.compile(r"^HD-[0-9A-Z]{6}$")
# Whatever broker the environment names, the live server sends the emails inline, into
# HELPDESK_VAR_DIR/mail (the embedded file backend).
EAGER = {"CELERY_TASK_ALWAYS_EAGER": "true"}


def _team() -> object:
    TopicFactory(name="Returns", slug="returns", position=1, offer_message_after_seconds=120)
    billing = TopicFactory(name="Billing", slug="billing", position=2, timezone="UTC")
    # Billing opens only on another day of the week: closed now.
    other_day = (timezone.now().weekday() + 3) % 7
    BusinessHoursFactory(topic=billing, weekday=other_day, opens=time(9), closes=time(17))
    return AgentFactory(first_name="Marta", last_name="Silva")


def _tickets() -> list[tuple[str, str, str, int | None]]:
    return list(Ticket.objects.order_by("pk").values_list("reference", "email", "body", "chat_id"))


def _mails(folder: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(folder.glob("*.log")))


@deadline(90)
async def test_a_customer_leaves_a_message_and_an_agent_answers_it_by_email(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    tmp_path: Path,
) -> None:
    agent = await db(_team)()
    server = live_server_factory(env=EAGER)
    mail_dir = tmp_path / "var" / "mail"

    customer_ctx = await browser.new_context()
    visitor_ctx = await browser.new_context()
    agent_ctx = await browser.new_context()
    shop = await pages.new(customer_ctx)
    visitor = await pages.new(visitor_ctx)
    console = await pages.new(agent_ctx)
    try:
        # --- In the widget (an iframe on a shop page): nobody is online, the customer waits.
        await shop.goto(f"{server.url}/widget-demo/")
        chat = await open_widget(shop)
        await chat.locator("#cw-name").fill("Ana Lima")
        await chat.locator("#cw-email").fill("ana@example.com")
        await chat.locator("#cw-topic").select_option("returns")
        await chat.locator("#cw-message").fill("Where is my parcel?")
        await chat.get_by_role("button", name="Start chat").click()
        await expect(chat.locator("#cw-status")).to_have_text("Waiting for an agent…")
        await expect(chat.locator("#cw-queue")).to_have_text("No agent is available right now")

        # The offer: staying is the default, the form opens only when asked.
        offer = chat.get_by_role("button", name="Leave a message instead")
        await expect(offer).to_be_visible()
        await expect(offer).to_have_attribute("aria-expanded", "false")
        await expect(chat.locator("#cw-offer-form")).to_be_hidden()
        await offer.click()
        await expect(offer).to_have_attribute("aria-expanded", "true")
        email = chat.get_by_label("Your email")
        body = chat.get_by_label("Message to leave")
        await expect(email).to_have_value("ana@example.com")  # prefilled
        await expect(body).to_have_value("Where is my parcel?")  # what they already asked
        await body.fill("Where is my parcel? Order 1234. <b>Please</b> email me.")
        await chat.get_by_role("button", name="Leave message").click()

        reference = chat.locator("#cw-ended-reference")
        await expect(reference).to_have_text(REFERENCE)
        await expect(chat.locator("#cw-ended-title")).to_have_text("Message sent")
        await expect(chat.locator("#cw-ended-text")).to_contain_text("ana@example.com")
        await expect(chat.locator("#cw-offer")).to_be_hidden()
        waiting_reference = await reference.text_content()
        [(stored, to, text, chat_id)] = await db(_tickets)()
        assert (stored, to, chat_id is not None) == (waiting_reference, "ana@example.com", True)
        assert text == "Where is my parcel? Order 1234. <b>Please</b> email me."

        # --- On the customer page, a closed topic says when it opens and takes a message.
        await visitor.goto(f"{server.url}/chat/")
        billing = visitor.locator('#cw-topic option[value="billing"]')
        await expect(billing).to_have_text(re.compile(r"^Billing — Closed — opens .+"))
        await expect(visitor.locator('#cw-topic option[value="returns"]')).to_have_text("Returns")
        await visitor.locator("#cw-topic").select_option("billing")
        await expect(visitor.locator("#cw-prechat-title")).to_have_text("Leave us a message")
        await expect(visitor.locator("#cw-consents")).to_be_hidden()
        await visitor.get_by_label("Your name").fill("Bruno Reis")
        await visitor.get_by_role("button", name="Send message").click()
        await expect(visitor.locator("#cw-email-error")).to_contain_text("email")
        await visitor.locator("#cw-email").fill("bruno@example.com")
        # The pre-chat message field is relabelled for a message (the composer has the old name).
        await expect(visitor.locator("#cw-message-label")).to_have_text("Your message")
        await visitor.locator("#cw-message").fill("Was I charged twice?")
        await visitor.get_by_role("button", name="Send message").click()
        await expect(visitor.locator("#cw-sent-reference")).to_have_text(REFERENCE)
        await expect(visitor.locator("#cw-sent-text")).to_contain_text("bruno@example.com")

        # --- The agent sees both in the console's tickets and answers the waiting customer's.
        await login(console, server.url, agent.username)
        tickets_link = console.get_by_role("link", name="Tickets (2 open)")
        await expect(tickets_link).to_be_visible()
        await tickets_link.click()
        await expect(console).to_have_url(re.compile(r"/console/tickets/$"))
        await console.get_by_role("link", name=waiting_reference).click()
        await expect(console.locator("#ticket-reference")).to_have_text(waiting_reference)
        # The text is shown as typed, and the chat it was left from is there.
        await expect(console.locator("#ticket-body")).to_have_text(
            "Where is my parcel? Order 1234. <b>Please</b> email me."
        )
        await expect(console.locator("#ticket-transcript")).to_contain_text("Where is my parcel?")
        await console.get_by_label("Your answer").fill("It ships tomorrow, Ana. Sorry!")
        await console.get_by_role("button", name="Send answer by email").click()
        await expect(console.get_by_role("status")).to_contain_text("is on its way")
        await expect(console.locator("#ticket-status")).to_have_text("Answered")
        await expect(console.locator(".ticket-reply")).to_contain_text("emailed")

        # --- The emails really went out: both confirmations and the answer.
        mails = _mails(mail_dir)
        assert f"We received your message [{waiting_reference}]" in mails
        assert f"Re: your message [{waiting_reference}]" in mails
        assert "It ships tomorrow, Ana. Sorry!" in mails
        assert "To: bruno@example.com" in mails
    except BaseException:
        await pages.save_artifacts("leave-message")
        raise
    finally:
        for context in (customer_ctx, visitor_ctx, agent_ctx):
            await close_context(context)
