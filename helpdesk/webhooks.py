"""Signed webhooks (docs/webhooks.md): every write of the webhook machinery.

`emit` is what the apps call, from their own receivers of their domain events: inside the
caller's transaction it stores one `WebhookDelivery` per active subscription to the event and
queues the send task after commit (a rolled back change sends nothing). The payload's `data` is
built once per event, and only when some subscription wants it.

Sending (`delivery_attempt`, from `helpdesk.tasks.webhook_deliver`) claims the row, posts
outside any transaction (no database lock is held while a receiver answers), then records the
outcome: delivered (2xx), retried later with a growing delay (HELPDESK_WEBHOOK_RETRY_DELAYS),
or failed once every attempt failed. A subscription whose deliveries fail
HELPDESK_WEBHOOK_DISABLE_AFTER times in a row is disabled and flagged in the admin.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from helpdesk import webhook_http
from helpdesk.models import (
    WEBHOOK_EVENT_NAMES,
    WEBHOOK_PING_EVENT,
    Customer,
    Ticket,
    Topic,
    WebhookDelivery,
    WebhookSubscription,
)
from helpdesk.webhook_signing import signed_headers

logger = logging.getLogger(__name__)

# A body larger than this is a bug in a payload builder (the biggest text we send, a message
# or a ticket, is 4,000 characters): refused at emission rather than sent.
MAX_BODY_BYTES = 64 * 1024
# While an attempt is under way the row is leased for the timeout and this margin: a
# duplicate task finds it not due; a worker that died mid-send leaves it to the sweep after.
_LEASE_MARGIN_SECONDS = 30
# A pending delivery overdue by this much lost its task (a broker hiccup, a worker killed, an
# eager run with no worker): the sweep queues it again.
SWEEP_GRACE_SECONDS = 60
# A task arriving this early (clocks of two workers) still counts as due.
_DUE_TOLERANCE_SECONDS = 2
_HISTORY_MAX = 2000

Data = Mapping[str, Any]


# --- Settings, read at call time ---------------------------------------------------------------


def retry_delays() -> list[int]:
    """Seconds between attempts: attempt n+1 waits retry_delays()[n-1]; one more attempt than
    there are delays."""
    return [max(0, int(value)) for value in settings.HELPDESK_WEBHOOK_RETRY_DELAYS]


def max_attempts() -> int:
    return len(retry_delays()) + 1


def _timeout() -> float:
    return float(settings.HELPDESK_WEBHOOK_TIMEOUT_SECONDS)


def _disable_after() -> int:
    return max(1, int(settings.HELPDESK_WEBHOOK_DISABLE_AFTER))


# --- Payload pieces shared by every app ---------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def topic_data(topic: Topic) -> dict[str, Any]:
    return {"id": topic.pk, "slug": topic.slug, "name": topic.name}


def customer_data(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "name": customer.name,
        "email": customer.email,
        "external_id": customer.external_id,
    }


def user_data(user: Any) -> dict[str, Any] | None:
    """An agent or supervisor as integrators see them (never their email or rights)."""
    if user is None:
        return None
    return {
        "id": user.pk,
        "username": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
    }


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    """`ticket.created`'s data; reads only what the ticket service already holds."""
    return {
        "ticket": {
            "id": ticket.pk,
            "reference": ticket.reference,
            "status": ticket.status,
            "topic": topic_data(ticket.topic),
            "customer": customer_data(ticket.customer),
            "email": ticket.email,
            "body": ticket.body,
            "chat_id": ticket.chat_id,
            "created_at": iso(ticket.created_at),
        }
    }


# --- Emission -------------------------------------------------------------------------------------


def _queue(delivery_id: int) -> None:
    from helpdesk import tasks  # tasks import this module

    tasks.webhook_deliver.delay(delivery_id=delivery_id)


def _encode(data: Data) -> None:
    size = len(json.dumps(data, ensure_ascii=False).encode())
    if size > MAX_BODY_BYTES:
        raise ValueError(f"webhook payload of {size} bytes is over {MAX_BODY_BYTES}")


def _deliveries_create(
    subscriptions: Iterable[WebhookSubscription], *, event: str, data: Data
) -> list[WebhookDelivery]:
    now = timezone.now()
    rows = [
        WebhookDelivery(
            subscription=subscription,
            event=event,
            payload=dict(data),
            created_at=now,
            next_attempt_at=now,
        )
        for subscription in subscriptions
    ]
    deliveries = WebhookDelivery.objects.bulk_create(rows)
    for delivery in deliveries:
        # robust: a broker that is down must not turn the caller's committed change into an
        # error; the row stays pending and the sweep queues it again.
        transaction.on_commit(partial(_queue, delivery.pk), robust=True)
    return deliveries


# Which events someone listens to, remembered for a few seconds per process: every chat message
# passes through `emit`, and nearly always nobody listens. A change made in this process
# (admin, services) forgets it at once; one made elsewhere is seen within the TTL.
_listened: tuple[float, frozenset[str]] | None = None


def listened_events_forget(**_: Any) -> None:
    global _listened
    _listened = None


def _nobody_listens(event: str) -> bool:
    global _listened
    ttl = settings.HELPDESK_WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS
    now = time.monotonic()
    if ttl <= 0:
        return False
    if _listened is None or now - _listened[0] >= ttl:
        events: set[str] = set()
        for listened in WebhookSubscription.objects.filter(is_active=True).values_list(
            "events", flat=True
        ):
            if isinstance(listened, list):
                events.update(name for name in listened if isinstance(name, str))
        _listened = (now, frozenset(events))
    return event not in _listened[1]


def emit(*, event: str, data: Data | Callable[[], Data]) -> list[WebhookDelivery]:
    """Store a delivery of `event` for every active subscription that asked for it and send
    them after commit. `data` may be a callable, called once and only when some subscription
    wants the event (no payload queries when nobody listens). Returns the deliveries.

    Inside the caller's transaction when there is one: its rollback takes the deliveries with
    it. When nobody subscribed, the cost is one read and no transaction (every chat message
    passes here; on SQLite a transaction takes the write lock)."""
    if event not in WEBHOOK_EVENT_NAMES:
        raise ValueError(f"unknown webhook event {event!r}")
    if _nobody_listens(event):
        return []
    # A handful of rows: filtered here, since JSON `contains` is not available on SQLite.
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(is_active=True).only("pk", "events")
        # A list, never a string where `in` would match a substring (rows written by hand).
        if isinstance(subscription.events, list) and event in subscription.events
    ]
    if not subscriptions:
        return []
    payload = data() if callable(data) else data
    _encode(payload)
    with transaction.atomic():
        return _deliveries_create(subscriptions, event=event, data=payload)


@transaction.atomic
def ping_send(*, subscription_ids: Iterable[int], by: Any = None) -> list[WebhookDelivery]:
    """A `ping` delivery to each given subscription (active or not: checking an endpoint
    before enabling it is the point)."""
    subscriptions = list(WebhookSubscription.objects.filter(pk__in=list(subscription_ids)))
    data = {"ping": True, "by": user_data(by)}
    return _deliveries_create(subscriptions, event=WEBHOOK_PING_EVENT, data=data)


# --- Delivery -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One claimed attempt: everything needed to send it without the database."""

    delivery_pk: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended: `delivered`, `retry` (in `retry_in` seconds), `failed` or
    `skipped` (not pending, not due, or its subscription inactive)."""

    status: str
    retry_in: int | None = None


def body_bytes(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed): the same for every attempt of a delivery."""
    envelope = {
        "id": str(delivery.delivery_id),
        "event": delivery.event,
        "created_at": iso(delivery.created_at),
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def _history(delivery: WebhookDelivery, line: str, now: datetime) -> None:
    text = f"{delivery.last_error}\n{now:%Y-%m-%d %H:%M:%S} {line}".strip()
    delivery.last_error = text[-_HISTORY_MAX:]


def _lock(delivery_pk: int) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("subscription")
        .filter(pk=delivery_pk)
        .first()
    )


@transaction.atomic
def delivery_claim(*, delivery_pk: int, now: datetime | None = None) -> Attempt | None:
    """Take the next attempt of a pending, due delivery (None otherwise). The attempt is
    counted now, so one whose worker died still counts; the row is leased meanwhile."""
    now = now or timezone.now()
    delivery = _lock(delivery_pk)
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None
    due = delivery.next_attempt_at
    if due is not None and due > now + timedelta(seconds=_DUE_TOLERANCE_SECONDS):
        return None
    subscription = delivery.subscription
    if not subscription.is_active and delivery.event != WEBHOOK_PING_EVENT:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
        why = "disabled" if subscription.disabled_at else "inactive"
        _history(delivery, f"not sent: the subscription is {why}", now)
        delivery.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])
        return None
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.next_attempt_at = now + timedelta(seconds=_timeout() + _LEASE_MARGIN_SECONDS)
    delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at", "updated_at"])
    body = body_bytes(delivery)
    return Attempt(
        delivery_pk=delivery.pk,
        url=subscription.url,
        body=body,
        headers=signed_headers(
            secret=subscription.secret,
            event=delivery.event,
            delivery_id=str(delivery.delivery_id),
            body=body,
            timestamp=int(now.timestamp()),
        ),
    )


@transaction.atomic
def delivery_record(
    *, delivery_pk: int, result: webhook_http.HttpResult, now: datetime | None = None
) -> Outcome:
    """Record an attempt's result; a final failure counts against the subscription, which is
    disabled after HELPDESK_WEBHOOK_DISABLE_AFTER in a row, and a success clears the count."""
    now = now or timezone.now()
    delivery = _lock(delivery_pk)
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return Outcome("skipped")
    delivery.response_code = result.status
    fields = ["status", "response_code", "next_attempt_at", "last_error", "updated_at"]
    subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
    is_ping = delivery.event == WEBHOOK_PING_EVENT
    if result.ok:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.save(update_fields=[*fields, "delivered_at"])
        if subscription.failure_streak and not is_ping:
            subscription.failure_streak = 0
            subscription.save(update_fields=["failure_streak"])
        logger.info(
            "webhook %s %s delivered to subscription %s (HTTP %s, attempt %s)",
            delivery.event,
            delivery.delivery_id,
            subscription.pk,
            result.status,
            delivery.attempts,
        )
        return Outcome("delivered")
    _history(delivery, f"attempt {delivery.attempts}: {result.error or 'failed'}", now)
    delays = retry_delays()
    if not result.permanent and not is_ping and delivery.attempts <= len(delays):
        delay = delays[delivery.attempts - 1]
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.save(update_fields=fields)
        logger.info(
            "webhook %s %s to subscription %s failed (%s); retry in %s s",
            delivery.event,
            delivery.delivery_id,
            subscription.pk,
            result.error,
            delay,
        )
        return Outcome("retry", retry_in=delay)
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.next_attempt_at = None
    delivery.save(update_fields=fields)
    logger.warning(
        "webhook %s %s to subscription %s failed after %s attempts: %s",
        delivery.event,
        delivery.delivery_id,
        subscription.pk,
        delivery.attempts,
        result.error,
    )
    if not is_ping:
        _count_failure(subscription, now=now, error=result.error)
    return Outcome("failed")


def _count_failure(subscription: WebhookSubscription, *, now: datetime, error: str) -> None:
    subscription.failure_streak += 1
    fields = ["failure_streak"]
    limit = _disable_after()
    if subscription.is_active and subscription.failure_streak >= limit:
        subscription.is_active = False
        subscription.disabled_at = now
        subscription.disabled_reason = (
            f"{subscription.failure_streak} deliveries in a row failed; the last: {error}"
        )[:300]
        fields += ["is_active", "disabled_at", "disabled_reason"]
        logger.warning(
            "webhook subscription %s disabled after %s failed deliveries",
            subscription.pk,
            subscription.failure_streak,
        )
    subscription.save(update_fields=fields)


def delivery_attempt(*, delivery_pk: int) -> Outcome:
    """Claim, send and record one attempt of a delivery (what the task runs)."""
    attempt = delivery_claim(delivery_pk=delivery_pk)
    if attempt is None:
        return Outcome("skipped")
    try:
        result = webhook_http.post(
            url=attempt.url, body=attempt.body, headers=attempt.headers, timeout=_timeout()
        )
    except Exception as exc:
        # Whatever went wrong, the attempt is recorded: a row left claimed would be retried by
        # the sweep forever without ever counting as failed.
        logger.exception("webhook delivery %s: unexpected error while sending", delivery_pk)
        result = webhook_http.HttpResult(status=None, error=f"{type(exc).__name__}: {exc}")
    return delivery_record(delivery_pk=delivery_pk, result=result)


# --- Supervisors' actions and the sweep ---------------------------------------------------------


@transaction.atomic
def delivery_redeliver(*, delivery_pk: int, by: Any) -> bool:
    """Send a delivery again, from a fresh count of attempts, with the same body and delivery
    id (the same event: a receiver that already handled it may skip it). False when its
    subscription is inactive (it would not be sent)."""
    delivery = _lock(delivery_pk)
    if delivery is None or not delivery.subscription.is_active:
        return False
    now = timezone.now()
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.delivered_at = None
    _history(delivery, f"redelivery asked by {str(by.get_username())[:150]}", now)
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_error",
            "updated_at",
        ]
    )
    transaction.on_commit(partial(_queue, delivery.pk), robust=True)
    return True


@transaction.atomic
def subscription_reenable(*, subscription_pk: int) -> bool:
    """A supervisor turns a subscription back on: the failure count starts again. False when
    it was already active."""
    listened_events_forget()
    updated = WebhookSubscription.objects.filter(pk=subscription_pk, is_active=False).update(
        is_active=True, failure_streak=0, disabled_at=None, disabled_reason=""
    )
    return bool(updated)


def due_deliveries(*, now: datetime | None = None) -> QuerySet[WebhookDelivery]:
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now - timedelta(seconds=SWEEP_GRACE_SECONDS),
    )


def delivery_sweep(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Queue the pending deliveries whose task was lost (overdue past the grace period); with
    eager Celery (no worker) this is also what retries them."""
    pks = list(
        due_deliveries(now=now).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    for pk in pks:
        _queue(pk)
    return pks
