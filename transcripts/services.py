"""Every write of the transcripts app: delivery records (one per email), their sending and
failures, and the inactivity close."""

import logging
from datetime import datetime
from email.utils import make_msgid
from functools import partial

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from chat import services as chat_services
from chat.errors import ChatClosed
from chat.models import Chat
from chat.services import Participant
from helpdesk.mail import clean_address, header_text, message_id_domain
from transcripts import emails, selectors
from transcripts.errors import DeliveryNotFound, DeliveryNotResendable
from transcripts.models import Delivery, Subscription

logger = logging.getLogger(__name__)

# last_error keeps a short history of failed attempts; the newest lines are the ones kept.
_HISTORY_MAX = 4000


def _new_message_id(*, kind: str, chat_id: int) -> str:
    # Chosen once and stored before the first attempt: every retry of this delivery sends the
    # same Message-ID, so a mail client drops the rare duplicate (sent, then the worker died
    # before recording it).
    return make_msgid(idstring=f"{kind}-{chat_id}", domain=message_id_domain())


def _append_history(delivery: Delivery, line: str) -> None:
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%S")
    text = f"{delivery.last_error}\n{stamp} {line}".strip()
    delivery.last_error = text[-_HISTORY_MAX:]


def _queue_send(delivery_id: int) -> None:
    transaction.on_commit(partial(_send_soon, delivery_id=delivery_id))


def _send_soon(*, delivery_id: int) -> None:
    from transcripts import tasks  # tasks import this module

    try:
        tasks.delivery_send.delay(delivery_id=delivery_id)
    except BrokerUnreachable:
        # The change that created the row (a chat's close) stands: the row stays pending and
        # pending_sweep queues it again once the broker is back.
        logger.warning("could not queue delivery %s: broker unreachable", delivery_id)


def pending_sweep(*, now: datetime | None = None) -> list[int]:
    """The beat's work: queue again every delivery left pending past STALE_PENDING, whose task
    was lost. Safe: the send task sends only a row still pending, under its lock. Returns the
    ids queued."""
    from transcripts import tasks

    delivery_ids = selectors.stale_pending_delivery_ids(now=now)
    for delivery_id in delivery_ids:
        logger.warning("delivery %s still pending: queued again", delivery_id)
        tasks.delivery_send.delay(delivery_id=delivery_id)
    return delivery_ids


def _delivery_create(
    *, chat_id: int, kind: str, key: str = "", to_email: str, skip_reason: str = ""
) -> Delivery | None:
    """The delivery of this email, created once; the send task is queued after commit only
    for a new, sendable one. None when it already existed (a duplicate event). A `skip_reason`
    (a rule said no, e.g. the offer's quiet period) stores it `skipped` with that reason: the
    row still exists, so the next sweep does not look at this chat again."""
    address = clean_address(to_email)
    if not address:
        skip_reason = "not a valid email address"
    delivery, created = Delivery.objects.get_or_create(
        chat_id=chat_id,
        kind=kind,
        key=key,
        defaults={
            "to_email": to_email[:254] if address else "",
            "message_id": _new_message_id(kind=kind, chat_id=chat_id),
            "status": Delivery.Status.SKIPPED if skip_reason else Delivery.Status.PENDING,
            "last_error": skip_reason,
        },
    )
    if not created:
        return None
    if delivery.status == Delivery.Status.PENDING:
        _queue_send(delivery.pk)
    return delivery


@transaction.atomic
def transcript_queue(*, chat_id: int) -> Delivery | None:
    """After a chat closed: the transcript for a customer who gave an email and asked for it.
    Idempotent: a second call (a duplicate signal) creates and queues nothing."""
    chat = Chat.objects.select_related("customer").get(pk=chat_id)
    customer = chat.customer
    if not customer.email or not customer.consent_transcript:
        return None
    return _delivery_create(chat_id=chat_id, kind=Delivery.Kind.TRANSCRIPT, to_email=customer.email)


def _lock_delivery(delivery_id: int) -> Delivery | None:
    return Delivery.objects.select_for_update().filter(pk=delivery_id).first()


@transaction.atomic
def delivery_send(*, delivery_id: int) -> bool:
    """Send one delivery if it is still pending; True if sent now.

    The row lock is held while sending: a duplicate task (a redelivered message) waits and
    then finds it sent. A failure raises and rolls everything back; the task records it with
    `delivery_record_failure` in its own transaction.
    """
    delivery = _lock_delivery(delivery_id)
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return False
    if not delivery.message_id:
        delivery.message_id = _new_message_id(kind=delivery.kind, chat_id=delivery.chat_id)
    message = emails.BUILDERS[Delivery.Kind(delivery.kind)](delivery)
    message.send()
    delivery.status = Delivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.attempts += 1
    delivery.save(update_fields=["status", "sent_at", "attempts", "message_id", "updated_at"])
    if delivery.kind == Delivery.Kind.OFFER:
        # The quiet period is counted from here (for a subscribed address; others are found
        # by their earlier offer deliveries).
        Subscription.objects.filter(email=delivery.to_email.lower()).update(
            last_offer_at=delivery.sent_at
        )
    return True


@transaction.atomic
def delivery_record_failure(*, delivery_id: int, error: str, final: bool) -> None:
    """Count a failed attempt and keep its error; `final` (permanent error, or no retries
    left) marks the delivery failed. A delivery no longer pending is left alone."""
    delivery = _lock_delivery(delivery_id)
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return
    delivery.attempts += 1
    _append_history(delivery, f"attempt {delivery.attempts} failed: {header_text(error)}")
    if final:
        delivery.status = Delivery.Status.FAILED
    delivery.save(update_fields=["attempts", "last_error", "status", "updated_at"])


@transaction.atomic
def delivery_resend(*, delivery_id: int, by: AbstractBaseUser) -> Delivery:
    """A supervisor sends a delivery again, whatever its status: back to pending, the send
    task of its kind queued after commit. The history stays in `last_error`, one line added.

    A new Message-ID: a resend is a deliberate second email (the customer lost or never got the
    first); the old ID could make their mail client drop it as a duplicate. Refused
    (DeliveryNotResendable) for a kind with no email built yet or an address we cannot send to.
    """
    delivery = _lock_delivery(delivery_id)
    if delivery is None:
        raise DeliveryNotFound()
    kind = Delivery.Kind(delivery.kind)
    # delivery_send builds every kind through emails.BUILDERS: no builder, no send task yet.
    if kind not in emails.BUILDERS:
        raise DeliveryNotResendable(f"{kind.label} emails cannot be sent yet.")
    if clean_address(delivery.to_email) is None:
        raise DeliveryNotResendable("This delivery has no valid address to send to.")
    delivery.status = Delivery.Status.PENDING
    delivery.sent_at = None
    delivery.message_id = _new_message_id(kind=delivery.kind, chat_id=delivery.chat_id)
    _append_history(delivery, f"resent by {header_text(by.get_username())}")
    delivery.save(update_fields=["status", "sent_at", "message_id", "last_error", "updated_at"])
    _queue_send(delivery.pk)
    logger.info("delivery %s resent by user %s", delivery.pk, by.pk)
    return delivery


# --- Inactivity close -------------------------------------------------------------------------


def inactivity_sweep(*, now: datetime | None = None) -> list[int]:
    """Close every active chat where nobody wrote for HELPDESK_INACTIVITY_CLOSE_SECONDS (0:
    off), as the system with reason `inactive`. Returns the ids closed.

    Each chat is closed in its own transaction under its row lock, taken with SKIP LOCKED and
    re-checked under it: a chat someone is writing to right now is left for the next sweep,
    and one that got a message in between is no longer inactive.
    """
    return [
        chat_id for chat_id in selectors.inactive_chat_ids(now=now) if _close_inactive(chat_id, now)
    ]


@transaction.atomic
def _close_inactive(chat_id: int, now: datetime | None) -> bool:
    locked = (
        selectors.inactive_chats(now=now)
        .filter(pk=chat_id)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)
        .first()
    )
    if locked is None:
        return False
    try:
        chat_services.chat_close(
            chat_id=chat_id, by=Participant.system(), reason=Chat.CloseReason.INACTIVE
        )
    except ChatClosed:
        return False
    logger.info("chat %s closed after inactivity", chat_id)
    return True
