"""Emitting a webhook event: one delivery per active subscription that asked for it, queued only
after commit, nothing for a rolled back change, the payload built once and only when needed."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from helpdesk import webhooks
from helpdesk.models import WebhookDelivery, WebhookSubscription
from tests.factories import WebhookSubscriptionFactory
from tests.webhook_receiver import record_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return record_queue(monkeypatch)


def test_each_active_subscription_to_the_event_gets_one_delivery(
    queued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    crm = WebhookSubscriptionFactory(events=["chat.created"])
    both = WebhookSubscriptionFactory(events=["chat.created", "message.created"])
    WebhookSubscriptionFactory(events=["message.created"])
    WebhookSubscriptionFactory(events=["chat.created"], is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        deliveries = webhooks.emit(event="chat.created", data={"chat": {"id": 7}})

    assert sorted(d.subscription_id for d in deliveries) == sorted([crm.pk, both.pk])
    rows = WebhookDelivery.objects.all()
    assert {(row.subscription_id, row.event) for row in rows} == {
        (crm.pk, "chat.created"),
        (both.pk, "chat.created"),
    }
    assert all(row.status == "pending" and row.payload == {"chat": {"id": 7}} for row in rows)
    assert len({row.delivery_id for row in rows}) == 2
    assert sorted(queued) == sorted(row.pk for row in rows)


def test_deliveries_are_queued_only_after_commit(
    queued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    WebhookSubscriptionFactory(events=["ticket.created"])
    with django_capture_on_commit_callbacks() as callbacks:
        webhooks.emit(event="ticket.created", data={"ticket": {"id": 1}})
        assert queued == []
    assert queued == []
    for callback in callbacks:
        callback()
    assert queued == [WebhookDelivery.objects.get().pk]


def test_a_rolled_back_change_sends_nothing(queued, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    WebhookSubscriptionFactory(events=["ticket.created"])

    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        webhooks.emit(event="ticket.created", data={"ticket": {"id": 1}})
        raise Boom

    assert not WebhookDelivery.objects.exists()
    assert callbacks == [] and queued == []


@pytest.mark.parametrize("event", ["chat.deleted", "ping", "", "CHAT.CREATED", "chat.created "])
def test_unknown_events_are_refused(event: str) -> None:
    WebhookSubscriptionFactory(events=["chat.created"])
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhooks.emit(event=event, data={})
    assert not WebhookDelivery.objects.exists()


def test_the_payload_is_built_once_and_only_when_someone_listens(queued) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def build() -> dict[str, object]:
        calls.append(1)
        return {"chat": {"id": 1}}

    WebhookSubscriptionFactory(events=["message.created"])
    webhooks.emit(event="chat.closed", data=build)
    assert calls == []
    WebhookSubscriptionFactory.create_batch(3, events=["chat.closed"])
    webhooks.emit(event="chat.closed", data=build)
    assert calls == [1]
    assert WebhookDelivery.objects.count() == 3


def test_nobody_subscribed_costs_one_query(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    WebhookSubscriptionFactory(events=["chat.created"], is_active=False)
    with django_assert_num_queries(1):
        assert webhooks.emit(event="chat.created", data={"chat": {"id": 1}}) == []


def _emit_queries(count: int) -> int:
    WebhookDelivery.objects.all().delete()
    WebhookSubscription.objects.all().delete()
    WebhookSubscriptionFactory.create_batch(count, events=["message.created"])
    with CaptureQueriesContext(connection) as ctx:
        webhooks.emit(event="message.created", data={"message": {"id": 1}})
    assert WebhookDelivery.objects.count() == count
    return len(ctx.captured_queries)


def test_the_queries_do_not_grow_with_the_subscriptions(queued) -> None:  # type: ignore[no-untyped-def]
    assert _emit_queries(1) == _emit_queries(20)


def test_an_oversized_payload_is_refused() -> None:
    WebhookSubscriptionFactory(events=["ticket.created"])
    with pytest.raises(ValueError, match="over"):
        webhooks.emit(event="ticket.created", data={"ticket": {"body": "x" * 70_000}})
    assert not WebhookDelivery.objects.exists()


def test_the_body_wraps_the_data_in_a_stable_envelope(queued) -> None:  # type: ignore[no-untyped-def]
    WebhookSubscriptionFactory(events=["chat.closed"])
    [delivery] = webhooks.emit(event="chat.closed", data={"chat": {"id": 3, "note": "Olá"}})
    body = webhooks.body_bytes(delivery)
    assert json.loads(body) == {
        "id": str(delivery.delivery_id),
        "event": "chat.closed",
        "created_at": delivery.created_at.isoformat().replace("+00:00", "Z"),
        "data": {"chat": {"id": 3, "note": "Olá"}},
    }
    assert "Olá".encode() in body  # UTF-8, not \\u escapes
    delivery.refresh_from_db()
    assert webhooks.body_bytes(delivery) == body  # the same bytes on every attempt
