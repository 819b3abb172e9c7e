"""End to end without a broker (eager Celery, the embedded defaults): a chat started through the
service is delivered to a real HTTP server on 127.0.0.1 that refuses the first two attempts;
the sweep retries it (eager mode never retries inline) and every request verifies with the
snippet of docs/webhooks.md. tests/integration/test_webhook_worker.py does the same with a real
worker and broker."""

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from helpdesk import webhooks
from helpdesk.models import WebhookDelivery
from tests.factories import WebhookSubscriptionFactory
from tests.helpers import start_chat
from tests.webhook_receiver import WebhookReceiver, doc_verifier, receivers_running

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def webhook_receiver(settings: Any) -> Iterator[Callable[..., WebhookReceiver]]:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"
    settings.HELPDESK_WEBHOOK_RETRY_DELAYS = [1, 1, 1, 1, 1]
    with receivers_running(settings) as start:
        yield start


def test_refused_twice_then_delivered_and_verified(webhook_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver = webhook_receiver([500, 503])
    subscription = WebhookSubscriptionFactory(url=receiver.url, events=["chat.created"])

    chat = start_chat(name="Ana Lima")  # commits: the first attempt runs inline, and fails

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert len(receiver.requests) == 1  # not retried inline
    # Later (past the delay and the sweep's grace): the beat sweep queues it, twice.
    later = timezone.now() + timedelta(minutes=5)
    assert webhooks.delivery_sweep(now=later) == [delivery.pk]
    assert webhooks.delivery_sweep(now=later) == [delivery.pk]
    assert webhooks.delivery_sweep(now=later) == []

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert "attempt 1: HTTP 500" in delivery.last_error
    assert "attempt 2: HTTP 503" in delivery.last_error
    assert [r.status for r in receiver.requests] == [500, 503, 200]

    verify_webhook = doc_verifier()
    for request in receiver.requests:
        assert verify_webhook(
            subscription.secret,
            request.body,
            request.headers["X-Helpdesk-Timestamp"],
            request.headers["X-Helpdesk-Signature"],
        )
        assert request.headers["X-Helpdesk-Delivery"] == str(delivery.delivery_id)
        assert request.headers["X-Helpdesk-Event"] == "chat.created"
        assert request.body == receiver.requests[0].body  # the same bytes every time
    body = json.loads(receiver.requests[-1].body)
    assert body["id"] == str(delivery.delivery_id) and body["event"] == "chat.created"
    assert body["data"]["chat"]["id"] == chat.pk
    assert body["data"]["chat"]["customer"]["name"] == "Ana Lima"
    # A receiver checking with another secret, or a tampered body, refuses it.
    last = receiver.requests[-1]
    stamp, signature = last.headers["X-Helpdesk-Timestamp"], last.headers["X-Helpdesk-Signature"]
    assert not verify_webhook("whsec_wrong", last.body, stamp, signature)
    assert not verify_webhook(
        subscription.secret, last.body.replace(b"Ana", b"Eve"), stamp, signature
    )
