"""Sending a webhook delivery: delivered on a 2xx and never sent twice, retried on the
schedule of HELPDESK_WEBHOOK_RETRY_DELAYS, failed after the last attempt, and a subscription
disabled after HELPDESK_WEBHOOK_DISABLE_AFTER failed deliveries in a row (a success resets the
count). Eager Celery never retries inline; the sweep picks up what a lost task left."""

from datetime import timedelta
from typing import Any

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from helpdesk import tasks, webhook_http, webhooks
from helpdesk.models import WebhookDelivery
from helpdesk.webhook_http import HttpResult
from helpdesk.webhook_signing import verify
from tests.factories import (
    SupervisorFactory,
    WebhookDeliveryFactory,
    WebhookSubscriptionFactory,
)
from tests.webhook_receiver import record_queue

pytestmark = pytest.mark.django_db

OK = HttpResult(status=200)
ERROR = HttpResult(status=500, error="HTTP 500: down")
REFUSED = HttpResult(status=None, error="URL refused: private address", permanent=True)


class FakePost:
    """Stands in for the network: answers with the scripted results (then 200)."""

    def __init__(self) -> None:
        self.answers: list[HttpResult] = []
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> HttpResult:
        self.calls.append(kwargs)
        return self.answers.pop(0) if self.answers else OK


@pytest.fixture
def post(monkeypatch: pytest.MonkeyPatch, settings) -> FakePost:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_RETRY_DELAYS = [10, 30, 90]
    settings.HELPDESK_WEBHOOK_DISABLE_AFTER = 3
    fake = FakePost()
    monkeypatch.setattr(webhook_http, "post", fake)
    return fake


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return record_queue(monkeypatch)


def _attempt(delivery: WebhookDelivery, result: HttpResult, at: Any) -> webhooks.Outcome:
    attempt = webhooks.delivery_claim(delivery_pk=delivery.pk, now=at)
    assert attempt is not None, "the delivery should be due"
    return webhooks.delivery_record(delivery_pk=delivery.pk, result=result, now=at)


def test_a_2xx_delivers_and_a_second_task_sends_nothing(post: FakePost) -> None:
    delivery = WebhookDeliveryFactory()
    assert tasks.webhook_deliver.apply(kwargs={"delivery_id": delivery.pk}).get() == "delivered"
    assert tasks.webhook_deliver.apply(kwargs={"delivery_id": delivery.pk}).get() == "skipped"
    assert len(post.calls) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.response_code == 200
    assert delivery.attempts == 1 and delivery.delivered_at is not None
    assert delivery.next_attempt_at is None


def test_the_request_is_signed_with_the_subscriptions_secret(post: FakePost) -> None:
    delivery = WebhookDeliveryFactory(event="chat.closed")
    webhooks.delivery_attempt(delivery_pk=delivery.pk)
    [call] = post.calls
    headers = call["headers"]
    assert call["url"] == delivery.subscription.url
    assert call["body"] == webhooks.body_bytes(delivery)
    assert headers["X-Helpdesk-Delivery"] == str(delivery.delivery_id)
    assert headers["X-Helpdesk-Event"] == "chat.closed"
    assert verify(
        secret=delivery.subscription.secret,
        body=call["body"],
        timestamp=headers["X-Helpdesk-Timestamp"],
        signature_header=headers["X-Helpdesk-Signature"],
    )


def test_failures_are_retried_on_the_schedule_then_the_delivery_fails(post: FakePost) -> None:
    delivery = WebhookDeliveryFactory()
    t0 = timezone.now()
    assert _attempt(delivery, ERROR, t0) == webhooks.Outcome("retry", retry_in=10)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == t0 + timedelta(seconds=10)
    # Not due yet: a task arriving early (a duplicate) does nothing.
    assert webhooks.delivery_claim(delivery_pk=delivery.pk, now=t0 + timedelta(seconds=5)) is None
    t1 = t0 + timedelta(seconds=10)
    assert _attempt(delivery, ERROR, t1) == webhooks.Outcome("retry", retry_in=30)
    t2 = t1 + timedelta(seconds=30)
    assert _attempt(delivery, ERROR, t2) == webhooks.Outcome("retry", retry_in=90)
    t3 = t2 + timedelta(seconds=90)
    assert _attempt(delivery, ERROR, t3) == webhooks.Outcome("failed")

    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 4  # len(delays) + 1
    assert delivery.response_code == 500 and delivery.next_attempt_at is None
    assert delivery.last_error.count("HTTP 500: down") == 4
    assert webhooks.delivery_claim(delivery_pk=delivery.pk, now=t3 + timedelta(days=1)) is None
    delivery.subscription.refresh_from_db()
    assert delivery.subscription.failure_streak == 1


def test_a_retry_that_succeeds_delivers(post: FakePost) -> None:
    delivery = WebhookDeliveryFactory()
    t0 = timezone.now()
    _attempt(delivery, ERROR, t0)
    assert _attempt(delivery, OK, t0 + timedelta(seconds=10)) == webhooks.Outcome("delivered")
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2


def test_a_refused_url_fails_at_once(post: FakePost) -> None:
    delivery = WebhookDeliveryFactory()
    assert _attempt(delivery, REFUSED, timezone.now()) == webhooks.Outcome("failed")
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "private address" in delivery.last_error


def test_consecutive_failed_deliveries_disable_the_subscription(post: FakePost, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_RETRY_DELAYS = []  # one attempt per delivery
    subscription = WebhookSubscriptionFactory()
    deliveries = WebhookDeliveryFactory.create_batch(4, subscription=subscription)
    post.answers = [ERROR, ERROR, ERROR]
    for delivery in deliveries[:2]:
        webhooks.delivery_attempt(delivery_pk=delivery.pk)
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.failure_streak == 2

    webhooks.delivery_attempt(delivery_pk=deliveries[2].pk)
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_at is not None
    assert "3 deliveries in a row failed" in subscription.disabled_reason
    assert "HTTP 500" in subscription.disabled_reason

    # Its pending delivery is not sent, and new events do not reach it.
    assert webhooks.delivery_attempt(delivery_pk=deliveries[3].pk) == webhooks.Outcome("skipped")
    assert len(post.calls) == 3
    deliveries[3].refresh_from_db()
    assert deliveries[3].status == "failed" and "disabled" in deliveries[3].last_error
    assert webhooks.emit(event="chat.created", data={}) == []


def test_a_success_resets_the_failure_count(post: FakePost, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_RETRY_DELAYS = []
    subscription = WebhookSubscriptionFactory(failure_streak=2)
    delivery = WebhookDeliveryFactory(subscription=subscription)
    webhooks.delivery_attempt(delivery_pk=delivery.pk)
    subscription.refresh_from_db()
    assert subscription.failure_streak == 0 and subscription.is_active


def test_pings_reach_inactive_subscriptions_and_do_not_count(post: FakePost, queued) -> None:  # type: ignore[no-untyped-def]
    subscription = WebhookSubscriptionFactory(is_active=False, failure_streak=2)
    [ping] = webhooks.ping_send(subscription_ids=[subscription.pk])
    post.answers = [ERROR]
    assert webhooks.delivery_attempt(delivery_pk=ping.pk) == webhooks.Outcome("failed")
    subscription.refresh_from_db()
    assert subscription.failure_streak == 2  # a ping is a check, never a reason to disable
    assert len(post.calls) == 1 and post.calls[0]["headers"]["X-Helpdesk-Event"] == "ping"


def test_eager_celery_makes_one_attempt_and_leaves_the_retry_for_later(post: FakePost) -> None:
    delivery = WebhookDeliveryFactory()
    post.answers = [ERROR, ERROR, ERROR, ERROR]
    before = timezone.now()
    result = tasks.webhook_deliver.apply(kwargs={"delivery_id": delivery.pk})
    assert result.get() == "retry"
    assert len(post.calls) == 1  # not retried inline
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.next_attempt_at >= before + timedelta(seconds=10)


def test_with_a_worker_the_task_retries_with_the_schedules_countdown(
    post: FakePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = WebhookDeliveryFactory()
    post.answers = [ERROR]
    countdowns: list[int] = []

    def retry(**kwargs: Any) -> Retry:
        countdowns.append(kwargs["countdown"])
        return Retry()

    monkeypatch.setattr(tasks.webhook_deliver, "retry", retry)
    with pytest.raises(Retry):
        tasks.webhook_deliver(delivery_id=delivery.pk)  # called as a worker does: not eager
    assert countdowns == [10]


def test_a_claimed_delivery_is_not_sent_by_a_duplicate_task(post: FakePost) -> None:
    delivery = WebhookDeliveryFactory()
    now = timezone.now()
    assert webhooks.delivery_claim(delivery_pk=delivery.pk, now=now) is not None
    # The first attempt is under way (leased): a duplicate task finds nothing to do.
    assert webhooks.delivery_claim(delivery_pk=delivery.pk, now=now) is None


def test_the_sweep_queues_deliveries_whose_task_was_lost(queued) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    lost = WebhookDeliveryFactory(next_attempt_at=now - timedelta(minutes=5))
    WebhookDeliveryFactory(next_attempt_at=now)  # its task is on its way
    WebhookDeliveryFactory(next_attempt_at=now - timedelta(minutes=5), status="delivered")
    WebhookDeliveryFactory(next_attempt_at=None, status="failed")
    assert webhooks.delivery_sweep(now=now) == [lost.pk]
    assert queued == [lost.pk]


def test_an_attempt_whose_worker_died_is_tried_again_after_its_lease(
    post: FakePost, queued
) -> None:  # type: ignore[no-untyped-def]
    delivery = WebhookDeliveryFactory()
    now = timezone.now()
    webhooks.delivery_claim(delivery_pk=delivery.pk, now=now)  # ... and the worker died
    assert webhooks.delivery_sweep(now=now + timedelta(seconds=30)) == []
    later = now + timedelta(minutes=3)
    assert webhooks.delivery_sweep(now=later) == [delivery.pk]
    assert _attempt(delivery, OK, later) == webhooks.Outcome("delivered")
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_redelivery_starts_again_with_the_same_id(
    post: FakePost, queued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    delivery = WebhookDeliveryFactory(status="failed", attempts=4, next_attempt_at=None)
    supervisor = SupervisorFactory(username="maria")
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.delivery_redeliver(delivery_pk=delivery.pk, by=supervisor)
    old_id = delivery.delivery_id
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0
    assert delivery.delivery_id == old_id
    assert "redelivery asked by maria" in delivery.last_error
    assert queued == [delivery.pk]


def test_redelivery_to_an_inactive_subscription_is_refused(queued) -> None:  # type: ignore[no-untyped-def]
    delivery = WebhookDeliveryFactory(
        subscription=WebhookSubscriptionFactory(is_active=False), status="failed"
    )
    assert not webhooks.delivery_redeliver(delivery_pk=delivery.pk, by=SupervisorFactory())
    delivery.refresh_from_db()
    assert delivery.status == "failed" and queued == []


def test_reenabling_clears_the_flag(post: FakePost) -> None:
    subscription = WebhookSubscriptionFactory(
        is_active=False, failure_streak=10, disabled_at=timezone.now(), disabled_reason="10 failed"
    )
    assert webhooks.subscription_reenable(subscription_pk=subscription.pk)
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.failure_streak == 0
    assert subscription.disabled_at is None and subscription.disabled_reason == ""
    assert not webhooks.subscription_reenable(subscription_pk=subscription.pk)


def test_an_unexpected_error_while_sending_is_recorded_as_a_failed_attempt(
    monkeypatch: pytest.MonkeyPatch, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_RETRY_DELAYS = [10]

    def broken(**kwargs: Any) -> HttpResult:
        raise RuntimeError("bug")

    monkeypatch.setattr(webhook_http, "post", broken)
    delivery = WebhookDeliveryFactory()
    assert webhooks.delivery_attempt(delivery_pk=delivery.pk) == webhooks.Outcome("retry", 10)
    delivery.refresh_from_db()
    assert "RuntimeError: bug" in delivery.last_error and delivery.attempts == 1
