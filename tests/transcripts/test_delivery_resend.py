"""A supervisor resends a delivery: back to pending with a new Message-ID, the history kept in
last_error, the send task queued after commit; kinds with no email yet and addresses we cannot
send to are refused."""

from typing import Any

import pytest
from django.core import mail

from tests.factories import DeliveryFactory, SupervisorFactory
from transcripts import emails, services
from transcripts.errors import DeliveryNotFound, DeliveryNotResendable
from transcripts.models import Delivery

pytestmark = pytest.mark.django_db


def test_a_sent_transcript_is_sent_again_with_its_history_kept(
    django_capture_on_commit_callbacks: Any,
) -> None:
    lead = SupervisorFactory(username="lead")
    delivery = DeliveryFactory(status=Delivery.Status.SENT, attempts=1, last_error="old line")
    old_id = delivery.message_id

    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_resend(delivery_id=delivery.pk, by=lead)

    delivery.refresh_from_db()
    assert len(mail.outbox) == 1
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert delivery.message_id != old_id and mail.outbox[0].extra_headers["Message-ID"] == (
        delivery.message_id
    )
    first, second = delivery.last_error.splitlines()
    assert first == "old line" and second.endswith("resent by lead")


def test_the_send_is_queued_on_commit_only(
    django_capture_on_commit_callbacks: Any,
) -> None:
    delivery = DeliveryFactory(status=Delivery.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.delivery_resend(delivery_id=delivery.pk, by=SupervisorFactory())
    # Queued on commit only (a test transaction never commits): nothing sent yet.
    queued = [c for c in callbacks if getattr(c, "keywords", {}) == {"delivery_id": delivery.pk}]
    assert len(queued) == 1 and mail.outbox == []


def test_a_kind_without_an_email_yet_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emails, "BUILDERS", {Delivery.Kind.TRANSCRIPT: emails.transcript_email})
    delivery = DeliveryFactory(kind=Delivery.Kind.MISSED_REPLY, status=Delivery.Status.FAILED)
    with pytest.raises(DeliveryNotResendable, match="Missed reply emails cannot be sent yet"):
        services.delivery_resend(delivery_id=delivery.pk, by=SupervisorFactory())
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED


@pytest.mark.parametrize("address", ["", "ana@example.com\r\nBcc: x@evil.test", "not-an-email"])
def test_an_address_we_cannot_send_to_is_refused(address: str) -> None:
    delivery = DeliveryFactory(status=Delivery.Status.SKIPPED, to_email=address)
    with pytest.raises(DeliveryNotResendable, match="no valid address"):
        services.delivery_resend(delivery_id=delivery.pk, by=SupervisorFactory())
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SKIPPED


def test_a_missing_delivery_is_not_found() -> None:
    with pytest.raises(DeliveryNotFound):
        services.delivery_resend(delivery_id=999_999_999, by=SupervisorFactory())
