"""A message left (a ticket) is a `ticket.created` webhook, stored in the ticket's own
transaction: no ticket, no delivery."""

from typing import Any

import pytest
from django.db import transaction

from helpdesk import services
from helpdesk.models import WebhookDelivery
from tests.factories import TopicFactory, WebhookSubscriptionFactory
from tests.webhook_receiver import record_queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_inline(settings: Any) -> None:
    # The confirmation email's task runs inline, whatever broker the environment names.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return record_queue(monkeypatch)


def test_a_ticket_is_sent_with_its_reference(queued, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    WebhookSubscriptionFactory(events=["ticket.created"])
    topic = TopicFactory(slug="orders", name="Orders")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_create(
            topic=topic, body="Call me back", email="Ana@Example.com", name="Ana Lima"
        )

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event == "ticket.created"
    data = delivery.payload["ticket"]
    assert data == {
        "id": ticket.pk,
        "reference": ticket.reference,
        "status": "open",
        "topic": {"id": topic.pk, "slug": "orders", "name": "Orders"},
        "customer": {
            "id": ticket.customer_id,
            "name": "Ana Lima",
            "email": "ana@example.com",
            "external_id": "",
        },
        "email": "ana@example.com",
        "body": "Call me back",
        "chat_id": None,
        "created_at": ticket.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert queued == [delivery.pk]


def test_a_ticket_rolled_back_leaves_no_delivery(
    queued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    WebhookSubscriptionFactory(events=["ticket.created"])

    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        services.ticket_create(topic=TopicFactory(), body="Hi", email="a@example.com", name="A")
        raise Boom
    assert not WebhookDelivery.objects.exists() and queued == []


def test_subscriptions_to_other_events_get_no_ticket(queued) -> None:  # type: ignore[no-untyped-def]
    WebhookSubscriptionFactory(events=["chat.created", "chat.closed"])
    topic = TopicFactory()
    services.ticket_create(topic=topic, body="Hi", email="a@example.com", name="A")
    assert not WebhookDelivery.objects.exists()
