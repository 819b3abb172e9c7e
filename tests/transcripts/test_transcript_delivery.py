"""A closed chat's transcript is emailed once, to a customer who gave an email and agreed."""

from typing import Any

import pytest
from django.core import mail

from chat import services as chat_services
from chat.services import Participant
from tests.factories import ChatFactory, CustomerFactory
from transcripts import services, tasks
from transcripts.models import Delivery

pytestmark = pytest.mark.django_db


def test_close_with_consent_sends_the_transcript_once(closed_chat: Any) -> None:
    chat = closed_chat()

    delivery = Delivery.objects.get(chat=chat)
    assert delivery.kind == Delivery.Kind.TRANSCRIPT
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 1
    assert delivery.sent_at is not None
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["Ana Lima <ana@example.com>"]
    assert sent.extra_headers["Message-ID"] == delivery.message_id
    assert delivery.message_id.endswith("@acme.test>")


def test_without_consent_nothing_is_sent(closed_chat: Any) -> None:
    chat = closed_chat(consent_transcript=False)

    assert not Delivery.objects.filter(chat=chat).exists()
    assert mail.outbox == []


def test_without_an_email_nothing_is_sent(closed_chat: Any) -> None:
    chat = closed_chat(email="")

    assert not Delivery.objects.filter(chat=chat).exists()
    assert mail.outbox == []


def test_a_duplicate_close_event_creates_and_sends_nothing_more(
    closed_chat: Any, django_capture_on_commit_callbacks: Any
) -> None:
    chat = closed_chat()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.transcript_queue(chat_id=chat.pk) is None

    assert callbacks == []
    assert Delivery.objects.filter(chat=chat).count() == 1
    assert len(mail.outbox) == 1


def test_running_the_task_twice_sends_once(closed_chat: Any) -> None:
    chat = closed_chat()
    delivery = Delivery.objects.get(chat=chat)

    assert tasks.delivery_send.delay(delivery_id=delivery.pk).get() is False
    assert tasks.delivery_send.delay(delivery_id=delivery.pk).get() is False

    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_missing_delivery_is_a_no_op() -> None:
    assert tasks.delivery_send.delay(delivery_id=999_999).get() is False
    assert mail.outbox == []


def test_a_malformed_address_is_skipped_not_sent(django_capture_on_commit_callbacks: Any) -> None:
    # Stored before validation existed, or written by an integrator: never sent to.
    customer = CustomerFactory(email="ana@example.com\r\nBcc: x@evil.test", consent_transcript=True)
    chat = ChatFactory(customer=customer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = services.transcript_queue(chat_id=chat.pk)

    assert delivery is not None
    assert delivery.status == Delivery.Status.SKIPPED
    assert delivery.last_error == "not a valid email address"
    assert callbacks == []
    assert mail.outbox == []


def test_the_task_is_queued_only_after_commit(
    closed_chat: Any, django_capture_on_commit_callbacks: Any
) -> None:
    chat = closed_chat(consent_transcript=False)
    chat.customer.consent_transcript = True
    chat.customer.save()
    Delivery.objects.filter(chat=chat).delete()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.transcript_queue(chat_id=chat.pk)
        assert mail.outbox == []

    assert len(callbacks) == 1
    assert Delivery.objects.get(chat=chat).status == Delivery.Status.PENDING


def test_closing_a_closed_chat_sends_nothing_more(closed_chat: Any) -> None:
    chat = closed_chat()

    with pytest.raises(chat_services.ChatClosed):
        chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())

    assert len(mail.outbox) == 1
