"""Celery tasks of the helpdesk core: ticket emails. Thin and idempotent: each takes an id and
calls a service that sends at most once (the row records when it was sent). Webhook
deliveries too (helpdesk.webhooks)."""

from typing import Any

from celery import shared_task

from helpdesk import services, webhooks
from helpdesk.mail import TRANSIENT_MAIL_ERRORS

# Transient delivery failures are retried with a growing, jittered delay; each retry is far
# below the Redis broker's one-hour visibility timeout.
_RETRY = {
    "autoretry_for": TRANSIENT_MAIL_ERRORS,
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="helpdesk.tasks.send_ticket_confirmation", **_RETRY)
def send_ticket_confirmation(*, ticket_id: int) -> bool:
    """The customer learns the reference of the message they left."""
    return services.ticket_confirmation_send(ticket_id=ticket_id)


@shared_task(name="helpdesk.tasks.send_ticket_reply", **_RETRY)
def send_ticket_reply(*, reply_id: int) -> bool:
    """An agent's answer reaches the customer."""
    return services.ticket_reply_send(reply_id=reply_id)


@shared_task(
    bind=True,
    name="helpdesk.tasks.webhook_deliver",
    # Acknowledged once done: a worker killed mid-send gives the task back, and the row (still
    # pending, its lease expired) is sent then; receivers drop a duplicate by its delivery id.
    acks_late=True,
    reject_on_worker_lost=True,
)
def webhook_deliver(self: Any, *, delivery_id: int) -> str:
    """One attempt of a webhook delivery; a failed one is retried with the delay the
    delivery's attempt count calls for (HELPDESK_WEBHOOK_RETRY_DELAYS). The row, not Celery's
    retry count, says how many attempts were made: a redelivery starts it again.

    Eagerly (no worker) the retry is not run inline: Celery would run it at once, without the
    delay, and hold the request that queued it for every attempt. The row stays pending with
    its next attempt time and `webhook_sweep` (or the admin's "redeliver") sends it later."""
    outcome = webhooks.delivery_attempt(delivery_pk=delivery_id)
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.status


@shared_task(name="helpdesk.tasks.webhook_sweep")
def webhook_sweep() -> int:
    """Pending webhook deliveries overdue past a grace period (their task was lost, or Celery
    runs eagerly) are queued again."""
    return len(webhooks.delivery_sweep())
