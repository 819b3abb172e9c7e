"""The three customer emails as a mail client shows them: each HTML part, built by the real
builders (transcripts.emails.BUILDERS) for a realistic chat (two agents, a hand-over, a system
line, an internal note), opened in chromium. Key content is checked and each is saved to
docs/screenshots/ (email-transcript.png, email-offer.png, email-missed-reply.png)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from chat import services
from chat.models import Chat, Message
from chat.services import Participant
from tests.browser.support import Pages, close_context, db, deadline
from tests.factories import AgentFactory, TopicFactory
from transcripts.emails import BUILDERS
from transcripts.models import Delivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 12:00 UTC on a summer day is 13:00 in Lisbon, the customer's zone.
START = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
NOTE = "INTERNAL: customer asked for a refund twice"


@pytest.fixture(autouse=True)
def _email_settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.HELPDESK_BRAND_NAME = "Acme Help"
    settings.DEFAULT_FROM_EMAIL = "Acme Help <support@acme.test>"
    settings.HELPDESK_PUBLIC_URL = "https://help.example.com/"
    settings.TIME_ZONE = "UTC"


@db
def emails_html() -> dict[str, str]:
    """A chat through the real services, then each kind's email built by its builder."""
    bruno = AgentFactory(first_name="Bruno", last_name="Secret-Surname")
    carla = AgentFactory(first_name="Carla", last_name="Hidden-Surname")
    chat = services.chat_start(
        topic=TopicFactory(name="Deliveries"),
        name="Ana Lima",
        email="ana@example.com",
        first_message="Where is my parcel? Order 1042.",
    )
    services.chat_assign(chat_id=chat.pk, agent=bruno)
    services.message_post(
        chat_id=chat.pk, sender=Participant.agent(bruno), body="Let me check that for you."
    )
    services.note_add(chat_id=chat.pk, author=bruno, body=NOTE)
    services.chat_hand_over(
        chat_id=chat.pk, from_agent=bruno, to_agent=carla, note="Carrier question"
    )
    services.message_post(
        chat_id=chat.pk, sender=Participant.customer(), body="Will it come before Friday?"
    )
    services.message_post(
        chat_id=chat.pk, sender=Participant.agent(carla), body="Yes: it ships today <b>by 6 pm</b>."
    )
    reply = services.message_post(
        chat_id=chat.pk, sender=Participant.agent(carla), body="You will get a tracking link."
    )
    # No consent box ticked: closing queues nothing; the rows below are built, never sent.
    services.chat_close(chat_id=chat.pk, by=Participant.agent(carla))
    # Fixed times, a minute apart (the close line too): the screenshots do not change.
    for message in Message.objects.filter(chat=chat):
        Message.objects.filter(pk=message.pk).update(
            created_at=START + timedelta(minutes=message.seq)
        )
    Chat.objects.filter(pk=chat.pk).update(created_at=START)
    chat.customer.timezone = "Europe/Lisbon"
    chat.customer.save()

    html = {}
    for kind, key in (
        (Delivery.Kind.TRANSCRIPT, ""),
        (Delivery.Kind.OFFER, ""),
        (Delivery.Kind.MISSED_REPLY, str(reply.message.seq)),
    ):
        delivery = Delivery.objects.create(
            chat=chat,
            kind=kind,
            key=key,
            to_email="ana@example.com",
            message_id=f"<{kind}-{chat.pk}@acme.test>",
        )
        message = BUILDERS[kind](delivery)
        ((body, mimetype),) = message.alternatives
        assert mimetype == "text/html"
        html[kind] = str(body)
    return html


async def _show(page: Page, html: str, path: Path) -> str:
    await page.set_content(html)
    await page.screenshot(path=str(path), full_page=True)
    return await page.locator("body").inner_text()


async def _links(page: Page) -> dict[str, str]:
    anchors = page.locator("a")
    return {
        (await anchors.nth(i).inner_text()).strip(): str(await anchors.nth(i).get_attribute("href"))
        for i in range(await anchors.count())
    }


@deadline(15)
async def test_the_emails_as_a_mail_client_shows_them(
    browser: Browser, pages: Pages, screenshots_dir: Path
) -> None:
    html = await emails_html()
    context = await browser.new_context(viewport={"width": 720, "height": 560})
    page = await pages.new(context)
    try:
        text = await _show(
            page, html[Delivery.Kind.TRANSCRIPT], screenshots_dir / "email-transcript.png"
        )
        assert "Acme Help" in text
        assert "Hello Ana" in text
        assert "Europe/Lisbon" in text
        for line in (
            "Where is my parcel? Order 1042.",
            "Let me check that for you.",
            "Yes: it ships today <b>by 6 pm</b>.",  # shown as text, never as markup
            "Chat ended by Carla.",
        ):
            assert line in text
        assert "Bruno" in text
        assert "Carla" in text
        assert "passed your chat to Carla" in text
        assert "13:02" in text  # the first question, 12:02 UTC, in Lisbon
        assert await page.locator("b").count() == 0
        for hidden in ("Secret-Surname", "Hidden-Surname", NOTE, "refund"):
            assert hidden not in text
            assert hidden not in html[Delivery.Kind.TRANSCRIPT]

        text = await _show(page, html[Delivery.Kind.OFFER], screenshots_dir / "email-offer.png")
        assert "Acme Help" in text
        assert "Hello Ana" in text
        links = await _links(page)
        confirm = links["Yes, send me news and offers"]
        assert confirm.startswith("https://help.example.com/subscriptions/confirm/")
        assert links["Unsubscribe"].startswith(
            "https://help.example.com/subscriptions/unsubscribe/"
        )

        text = await _show(
            page, html[Delivery.Kind.MISSED_REPLY], screenshots_dir / "email-missed-reply.png"
        )
        assert "Acme Help" in text
        assert "Carla answered you after you left the chat" in text
        assert "Yes: it ships today <b>by 6 pm</b>." in text
        assert "You will get a tracking link." in text
        assert "Let me check that for you." not in text  # before the customer's last question
        assert "Hidden-Surname" not in text
        assert NOTE not in text
        links = await _links(page)
        assert links["Continue the chat"].startswith("https://help.example.com/chat/#token=")
    finally:
        await close_context(context)
