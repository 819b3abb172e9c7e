"""Every chat message passes through webhooks.emit: when nobody listens to an event, a warm
process answers without a query; a subscription saved in this process is heard at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import webhooks
from helpdesk.models import WebhookSubscription
from tests.factories import WebhookSubscriptionFactory
from tests.webhook_receiver import record_queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cold_cache() -> None:
    webhooks.listened_events_forget()


def _queries_of(call) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_an_event_nobody_listens_to_costs_no_query_once_warm() -> None:
    WebhookSubscriptionFactory(events=["ticket.created"])

    def emit() -> None:
        webhooks.emit(event="message.created", data={"x": 1})

    assert _queries_of(emit) == 1
    assert _queries_of(emit) == 0


def test_a_subscription_saved_here_is_heard_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    record_queue(monkeypatch)
    assert webhooks.emit(event="message.created", data={"x": 1}) == []

    WebhookSubscriptionFactory(events=["message.created"])

    assert len(webhooks.emit(event="message.created", data={"x": 1})) == 1


def test_a_disabled_subscription_is_forgotten_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    record_queue(monkeypatch)
    subscription = WebhookSubscriptionFactory(events=["message.created"])
    assert len(webhooks.emit(event="message.created", data={"x": 1})) == 1

    subscription.is_active = False
    subscription.save()

    assert webhooks.emit(event="message.created", data={"x": 1}) == []
    assert _queries_of(lambda: webhooks.emit(event="message.created", data={"x": 1})) == 0


def test_a_change_from_another_process_is_seen_after_the_ttl(
    monkeypatch: pytest.MonkeyPatch, settings
) -> None:  # type: ignore[no-untyped-def]
    record_queue(monkeypatch)
    settings.HELPDESK_WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS = 5
    clock = [1000.0]
    monkeypatch.setattr(webhooks.time, "monotonic", lambda: clock[0])
    assert webhooks.emit(event="message.created", data={"x": 1}) == []
    # Written without signals, as another process's write looks from here.
    WebhookSubscription.objects.bulk_create(
        [
            WebhookSubscription(
                name="CRM", url="https://crm.example.com/h", events=["message.created"]
            )
        ]
    )

    clock[0] += 4
    assert webhooks.emit(event="message.created", data={"x": 1}) == []
    clock[0] += 1
    assert len(webhooks.emit(event="message.created", data={"x": 1})) == 1
