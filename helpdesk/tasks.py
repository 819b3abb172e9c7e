"""Celery tasks of the helpdesk core: ticket emails. Thin and idempotent: each takes an id and
calls a service that sends at most once (the row records when it was sent)."""

from celery import shared_task

from helpdesk import services
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
