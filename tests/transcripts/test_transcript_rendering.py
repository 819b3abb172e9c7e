"""The transcript email: both parts, brand, agent first names, the customer's time zone,
system lines, and never an internal note."""

import datetime
from typing import Any

import pytest
from django.core import mail

from chat import services as chat_services
from chat.models import Message
from chat.services import Participant
from tests.factories import AgentFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db

NOON_UTC = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC)


def _close_with_note(tz: str, django_capture_on_commit_callbacks: Any) -> None:
    agent = AgentFactory(first_name="Bruno", last_name="Secret-Surname")
    chat = active_chat(agent=agent, email="ana@example.com")
    chat.customer.consent_transcript = True
    chat.customer.timezone = tz
    chat.customer.save()
    chat_services.message_post(
        chat_id=chat.pk, sender=Participant.agent(agent), body="Your parcel <b>ships</b> today."
    )
    chat_services.note_add(chat_id=chat.pk, author=agent, body="INTERNAL: customer is grumpy")
    Message.objects.filter(chat=chat).update(created_at=NOON_UTC)
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.chat_close(chat_id=chat.pk, by=Participant.agent(agent))


def test_both_parts_with_brand_names_and_system_lines(
    django_capture_on_commit_callbacks: Any,
) -> None:
    _close_with_note("Europe/Lisbon", django_capture_on_commit_callbacks)

    (email,) = mail.outbox
    html = email.alternatives[0][0]
    assert email.alternatives[0][1] == "text/html"
    assert email.subject == "Your chat with Acme Help"
    for part in (email.body, html):
        assert "Acme Help" in part
        assert "Bruno" in part
        assert "Secret-Surname" not in part
        assert "Where is my parcel?" in part
        assert "Chat ended by Bruno." in part
        assert "INTERNAL" not in part
        assert "grumpy" not in part
    # Message bodies are text: escaped in HTML, verbatim in plain text.
    assert "&lt;b&gt;ships&lt;/b&gt;" in html
    assert "<b>ships</b>" in email.body


def test_times_are_in_the_customers_time_zone(django_capture_on_commit_callbacks: Any) -> None:
    _close_with_note("Asia/Tokyo", django_capture_on_commit_callbacks)

    (email,) = mail.outbox
    assert "[21:00] Ana: Where is my parcel?" in email.body  # noon UTC is 21:00 in Tokyo
    assert "Asia/Tokyo" in email.body


@pytest.mark.parametrize("hostile", ["", "Not/AZone", "../../etc/passwd", "UTC\r\nBcc: x"])
def test_an_unknown_zone_falls_back_to_the_site_zone(
    hostile: str, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"
    _close_with_note(hostile, django_capture_on_commit_callbacks)

    (email,) = mail.outbox
    assert "[08:00] Ana: Where is my parcel?" in email.body  # noon UTC, EDT
    assert "America/New_York" in email.body


def test_the_transcript_email_links_to_the_signed_rating_form() -> None:
    from transcripts import emails
    from transcripts.feedback import chat_get_by_feedback_token
    from transcripts.models import Delivery

    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent)
    chat_services.chat_close(chat_id=chat.pk, by=Participant.agent(agent))
    delivery = Delivery.objects.create(
        chat=chat, kind=Delivery.Kind.TRANSCRIPT, to_email="ana@example.com"
    )
    message = emails.transcript_email(delivery)
    html = message.alternatives[0][0]
    token = message.body.split("/feedback/")[1].split("/")[0]
    assert chat_get_by_feedback_token(token=token) == chat
    assert f"/feedback/{token}/" in html
