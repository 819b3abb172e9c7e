"""Celery tasks of transcripts: thin and idempotent. Each takes ids (or nothing, for the beat
sweeps) and calls services; a delivery is sent only while its row is pending."""

from typing import Any

from celery import shared_task

from helpdesk.mail import TRANSIENT_MAIL_ERRORS, is_permanent_failure, retry_delay
from transcripts import missed, offers, services

MAX_RETRIES = 5


@shared_task(
    bind=True,
    name="transcripts.tasks.delivery_send",
    # Acknowledged only once done, and given back to the broker if the worker dies mid-task:
    # the redelivered task finds the row still pending (nothing was recorded) and sends; the
    # stored Message-ID lets mail clients drop the rare duplicate.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def delivery_send(self: Any, *, delivery_id: int) -> bool:
    """Send one delivery, retrying transient SMTP/network failures with a growing, jittered
    delay. The retry is explicit rather than `autoretry_for` so each failed attempt is
    recorded on the row (the failed send's own transaction rolled back) and the last one marks
    it failed."""
    try:
        return services.delivery_send(delivery_id=delivery_id)
    except TRANSIENT_MAIL_ERRORS as exc:
        final = is_permanent_failure(exc) or self.request.retries >= self.max_retries
        services.delivery_record_failure(delivery_id=delivery_id, error=repr(exc), final=final)
        if final:
            return False
        raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc


@shared_task(name="transcripts.tasks.inactivity_sweep")
def inactivity_sweep() -> int:
    """Active chats where nobody wrote for HELPDESK_INACTIVITY_CLOSE_SECONDS are closed."""
    return len(services.inactivity_sweep())


@shared_task(name="transcripts.tasks.offer_sweep")
def offer_sweep() -> int:
    """Closed chats past HELPDESK_OFFER_DELAY_SECONDS get their follow-up offer row (queued
    to `delivery_send`)."""
    return len(offers.offer_sweep())


@shared_task(name="transcripts.tasks.pending_sweep")
def pending_sweep() -> int:
    """Deliveries of any kind whose task was lost (or never queued: the broker was down) are
    queued again."""
    return len(services.pending_sweep())


@shared_task(name="transcripts.tasks.missed_reply_sweep")
def missed_reply_sweep() -> int:
    """Agents' replies unseen past HELPDESK_MISSED_REPLY_SECONDS by a customer who left get
    their delivery row (queued to `delivery_send`)."""
    return len(missed.missed_reply_sweep())
