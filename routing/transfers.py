"""Transfers and escalation: every state change of a `Transfer` (docs/routing.md).

A transfer to a colleague or a senior is a request: the sender keeps the chat (and keeps
writing) until the receiver accepts, and the hand-over itself is `chat.services.chat_hand_over`
(the chat core owns the chat's state; routing's assignment guard checks the receiver's room).
A transfer to a topic's queue is `chat.services.chat_requeue(reason="transfer")`, done at once.

Every service locks the chat row first and the transfer row second (the order of the chat
core's services, then ours), re-checks under the locks, and publishes only after commit. The
frames go to consoles only: `agent.<id>` groups of the people concerned, never a customer.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat import events as chat_events
from chat import services as chat_services
from chat.errors import ChatClosed, ChatNotFound, NotYourChat
from chat.models import Chat
from chat.protocol import chat_frame_for_staff, staff_display_name
from chat.selectors import last_customer_message_body
from helpdesk.errors import DomainError, Forbidden
from helpdesk.models import Topic
from helpdesk.roles import AGENTS_GROUP
from routing import events as routing_events
from routing import transfer_protocol, transfer_selectors
from routing.errors import (
    AgentAtCapacity,
    AgentNotFound,
    AgentUnavailable,
    NoAgentsForTopic,
    NoSeniorAvailable,
    TopicNotFound,
    TransferNotFound,
    TransferNotPending,
    TransferPending,
    TransferReasonInvalid,
    TransferReasonTooLong,
    TransferToSelf,
)
from routing.models import TRANSFER_REASON_MAX_LENGTH, Transfer

logger = logging.getLogger(__name__)

_TRANSFER_RELATED = ("requested_by", "from_agent", "to_agent", "to_topic")


@dataclass(frozen=True)
class ReplyOutcome:
    """How a receiver's answer ended. `error` is for the receiver: the transfer could not be
    accepted after all (they are full, the chat moved on) and was closed meanwhile, which is
    committed; the caller raises it once the transaction is over."""

    transfer: Transfer
    error: DomainError | None = None


def clean_reason(reason: str) -> str:
    """A decline reason: optional plain text, at most 200 characters (blanks dropped)."""
    if "\x00" in reason:
        raise TransferReasonInvalid()
    try:
        reason.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (JSON "\ud800") is not text; the database would refuse it later.
        raise TransferReasonInvalid() from None
    reason = reason.strip()
    if len(reason) > TRANSFER_REASON_MAX_LENGTH:
        raise TransferReasonTooLong()
    return reason


# --- Locks and publication ---------------------------------------------------------------------


def _transfers() -> QuerySet[Transfer]:
    return Transfer.objects.select_related(*_TRANSFER_RELATED)


def _lock_transfer(transfer_id: int) -> Transfer:
    return _transfers().select_for_update(of=("self",)).get(pk=transfer_id)


def _skip_locked(qs: QuerySet[Transfer]) -> QuerySet[Transfer]:
    """Lock, skipping rows another transaction holds (SQLite has no row locks and serialises
    writers; Django ignores select_for_update there)."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs.select_for_update()


def _groups(*user_ids: int | None) -> list[str]:
    return [chat_events.agent_group(pk) for pk in dict.fromkeys(user_ids) if pk is not None]


def _sender_groups(transfer: Transfer) -> list[str]:
    # The agent whose chat it is and, for a supervisor's transfer, the supervisor.
    return _groups(transfer.requested_by_id, transfer.from_agent_id)


def _publish_decision(transfer: Transfer, *, by: Any) -> None:
    """The request ended: its senders learn how, the receiver's consoles drop the request."""
    result = transfer_protocol.transfer_result_frame(transfer, by=by)
    chat_events.publish_on_commit(
        groups=_sender_groups(transfer) + _groups(transfer.to_agent_id), frame=result
    )


def _publish_withdrawn(transfer: Transfer, *, by: Any) -> None:
    """Cancelled or expired: the senders get the result, the receiver `transfer_cancelled`."""
    chat_events.publish_on_commit(
        groups=_sender_groups(transfer),
        frame=transfer_protocol.transfer_result_frame(transfer, by=by),
    )
    chat_events.publish_on_commit(
        groups=_groups(transfer.to_agent_id),
        frame=transfer_protocol.transfer_cancelled_frame(transfer),
    )


def _close(transfer: Transfer, *, status: str, reason: str = "", now: datetime) -> None:
    transfer.status = status
    transfer.reason = reason[:TRANSFER_REASON_MAX_LENGTH]
    transfer.decided_at = now
    transfer.save(update_fields=["status", "reason", "decided_at"])


# --- Asking ------------------------------------------------------------------------------------


def _check_no_pending(chat: Chat) -> None:
    # Under the chat's row lock, which every transfer of this chat takes first.
    if Transfer.objects.filter(chat_id=chat.pk, status=Transfer.Status.PENDING).exists():
        raise TransferPending()


def _sender_chat(*, chat_id: int, sender: Any) -> Chat:
    chat = transfer_selectors.check_sender(chat_services.lock_chat(chat_id), sender)
    _check_no_pending(chat)
    return chat


def _open_request(*, chat: Chat, sender: Any, receiver: Any, note: str, kind: str) -> Transfer:
    """A pending request to `receiver`, expiring after HELPDESK_TRANSFER_TIMEOUT_SECONDS."""
    now = timezone.now()
    try:
        # A savepoint: on PostgreSQL a failed INSERT would otherwise break the transaction.
        with transaction.atomic():
            transfer = Transfer.objects.create(
                chat=chat,
                kind=kind,
                from_agent=chat.agent,
                requested_by=sender,
                to_agent=receiver,
                note=note,
                status=Transfer.Status.PENDING,
                created_at=now,
                expires_at=now + timedelta(seconds=settings.HELPDESK_TRANSFER_TIMEOUT_SECONDS),
            )
    except IntegrityError:
        # The partial unique index: another request for this chat won the race.
        raise TransferPending() from None
    chat_frame = chat_frame_for_staff(chat, preview=last_customer_message_body(chat_id=chat.pk))
    chat_events.publish_on_commit(
        groups=_groups(receiver.pk),
        frame=transfer_protocol.transfer_request_frame(transfer, chat_frame=chat_frame),
    )
    chat_events.publish_on_commit(
        groups=_sender_groups(transfer), frame=transfer_protocol.transfer_frame(transfer)
    )
    logger.info(
        "chat %s: %s transfer %s from %s to %s", chat.pk, kind, transfer.pk, sender.pk, receiver.pk
    )
    return transfer


@transaction.atomic
def transfer_to_agent(*, chat_id: int, sender: Any, to_agent_id: int, note: str) -> Transfer:
    """Ask a colleague to take over an active chat (the sender's, or any for a supervisor).

    The colleague must be an active agent (`agent_not_found` otherwise, for a user who is not
    an agent too), online with a live console (`agent_unavailable`), not the chat's agent
    (`transfer_to_self`), and the chat must have no transfer waiting (`transfer_pending`).
    """
    note = chat_services.clean_transfer_note(note)
    chat = _sender_chat(chat_id=chat_id, sender=sender)
    if to_agent_id in (sender.pk, chat.agent_id):
        raise TransferToSelf()
    receiver = (
        get_user_model()
        .objects.filter(pk=to_agent_id, is_active=True, groups__name=AGENTS_GROUP)
        .first()
    )
    if receiver is None:
        raise AgentNotFound()
    if not transfer_selectors.agent_is_reachable(agent_id=receiver.pk):
        raise AgentUnavailable(f"{staff_display_name(receiver)} is not online right now.")
    return _open_request(
        chat=chat, sender=sender, receiver=receiver, note=note, kind=Transfer.Kind.AGENT
    )


@transaction.atomic
def transfer_escalate(*, chat_id: int, sender: Any, note: str) -> Transfer:
    """Ask a senior to take over: the online, present senior with room who handles the chat's
    topic and has the fewest open chats (`no_senior_available` when there is none)."""
    note = chat_services.clean_transfer_note(note)
    chat = _sender_chat(chat_id=chat_id, sender=sender)
    profile = transfer_selectors.senior_for(
        topic_id=chat.topic_id, exclude_ids={sender.pk, chat.agent_id}
    )
    if profile is None:
        raise NoSeniorAvailable()
    return _open_request(
        chat=chat, sender=sender, receiver=profile.user, note=note, kind=Transfer.Kind.SENIOR
    )


@transaction.atomic
def transfer_to_topic(*, chat_id: int, sender: Any, topic_slug: str, note: str) -> Transfer:
    """Put an active chat at the front of a topic's queue with the note; done at once.

    The topic may be the chat's own (another colleague of the topic takes over). It must be
    active (`topic_not_found`) and handled by some agent other than those passing the chat on
    (`no_agents_for_topic`); the drain offers the chat to its previous agent last.
    """
    note = chat_services.clean_transfer_note(note)
    topic = Topic.objects.filter(slug=topic_slug, is_active=True).first()
    if topic is None:
        raise TopicNotFound()
    chat = _sender_chat(chat_id=chat_id, sender=sender)
    holder = chat.agent
    if not transfer_selectors.topic_has_agents(
        topic_id=topic.pk, exclude_ids={sender.pk, chat.agent_id}
    ):
        raise NoAgentsForTopic(f"No other agent handles {topic.name}: nobody could take the chat.")
    chat_services.chat_requeue(
        chat_id=chat.pk, reason="transfer", topic=topic, note=note, by=sender
    )
    now = timezone.now()
    transfer = Transfer.objects.create(
        chat=chat,
        kind=Transfer.Kind.TOPIC,
        from_agent=holder,
        requested_by=sender,
        to_topic=topic,
        note=note,
        status=Transfer.Status.COMPLETED,
        created_at=now,
        decided_at=now,
    )
    chat_events.publish_on_commit(
        groups=_sender_groups(transfer), frame=transfer_protocol.transfer_frame(transfer)
    )
    chat_events.send_on_commit(
        routing_events.chat_transferred, chat_id=chat.pk, transfer_id=transfer.pk
    )
    logger.info("chat %s: transferred to the %s queue by %s", chat.pk, topic.slug, sender.pk)
    return transfer


# --- Answering ---------------------------------------------------------------------------------


def _no_answer_reason(transfer: Transfer) -> str:
    # The timeout in force when it was sent, not today's setting.
    assert transfer.expires_at is not None  # noqa: S101  (pending transfers always expire)
    seconds = round((transfer.expires_at - transfer.created_at).total_seconds())
    return f"No answer within {seconds} seconds."


def _expire(transfer: Transfer, *, now: datetime) -> None:
    _close(transfer, status=Transfer.Status.EXPIRED, reason=_no_answer_reason(transfer), now=now)
    _publish_withdrawn(transfer, by=transfer.to_agent)
    logger.info("transfer %s of chat %s expired", transfer.pk, transfer.chat_id)


def transfer_reply(
    *, transfer_id: int, agent: Any, accept: bool, reason: str = "", chat_id: int | None = None
) -> ReplyOutcome:
    """The receiver accepts or declines (with an optional reason) a pending request.

    Only the receiver may answer (`transfer_not_found` for anyone else: nothing is revealed);
    `chat`, when given, must be the transfer's chat. An answer to a request no longer pending
    is `transfer_not_pending` (one past its deadline is expired on the spot, and its sender
    told). Accepting hands the chat over under its row lock with the chat core's guards: a
    receiver at their limit (`over_capacity`) or a chat that moved on closes the request
    (declined or cancelled, the sender told) and the error is returned for the receiver.
    """
    reason = clean_reason(reason)
    found = (
        Transfer.objects.filter(pk=transfer_id, to_agent=agent)
        .values_list("chat_id", flat=True)
        .first()
    )
    if found is None or (chat_id is not None and chat_id != found):
        raise TransferNotFound()
    return _reply(transfer_id=transfer_id, chat_id=found, agent=agent, accept=accept, reason=reason)


@transaction.atomic
def _reply(
    *, transfer_id: int, chat_id: int, agent: Any, accept: bool, reason: str
) -> ReplyOutcome:
    chat = chat_services.lock_chat(chat_id)
    transfer = _lock_transfer(transfer_id)
    if transfer.status != Transfer.Status.PENDING:
        raise TransferNotPending(
            f"This transfer is already {transfer.get_status_display().lower()}."
        )
    now = timezone.now()
    assert transfer.expires_at is not None  # noqa: S101  (a database constraint)
    if transfer.expires_at <= now:
        _expire(transfer, now=now)
        return ReplyOutcome(transfer, TransferNotPending("Too late: this transfer has expired."))
    if not accept:
        _close(transfer, status=Transfer.Status.DECLINED, reason=reason, now=now)
        _publish_decision(transfer, by=agent)
        return ReplyOutcome(transfer)
    sender_name = staff_display_name(transfer.from_agent)
    try:
        # A savepoint of its own: a refusal undoes nothing of ours.
        chat_services.chat_hand_over(
            chat_id=chat.pk,
            from_agent=transfer.from_agent,
            to_agent=agent,
            note=transfer.note,
            kind=transfer.kind,  # type: ignore[arg-type]
        )
    except AgentAtCapacity as exc:
        _close(
            transfer,
            status=Transfer.Status.DECLINED,
            reason=f"{staff_display_name(agent)} has no room for another chat.",
            now=now,
        )
        _publish_decision(transfer, by=agent)
        return ReplyOutcome(transfer, exc)
    except (ChatClosed, ChatNotFound, NotYourChat, Forbidden) as exc:
        # The chat ended or left the sender meanwhile (the chat's own signals normally cancel
        # the request first), or the receiver is no longer an agent.
        if isinstance(exc, ChatClosed):
            why = "The chat has ended."
        elif isinstance(exc, NotYourChat):
            why = f"The chat is no longer with {sender_name}."
        else:
            why = "The chat could not be handed over."
        _close(transfer, status=Transfer.Status.CANCELLED, reason=why, now=now)
        _publish_withdrawn(transfer, by=None)
        return ReplyOutcome(transfer, exc)
    _close(transfer, status=Transfer.Status.ACCEPTED, now=now)
    _publish_decision(transfer, by=agent)
    chat_events.send_on_commit(
        routing_events.chat_transferred, chat_id=chat.pk, transfer_id=transfer.pk
    )
    logger.info("transfer %s of chat %s accepted by %s", transfer.pk, chat.pk, agent.pk)
    return ReplyOutcome(transfer)


def transfer_cancel(*, transfer_id: int, agent: Any, chat_id: int | None = None) -> Transfer:
    """The sender (who asked, or whose chat it is) withdraws a pending request.

    Anyone else gets `transfer_not_found`; a request no longer pending `transfer_not_pending`.
    """
    found = (
        Transfer.objects.filter(Q(requested_by=agent) | Q(from_agent=agent), pk=transfer_id)
        .values_list("chat_id", flat=True)
        .first()
    )
    if found is None or (chat_id is not None and chat_id != found):
        raise TransferNotFound()
    return _cancel(transfer_id=transfer_id, chat_id=found, agent=agent)


@transaction.atomic
def _cancel(*, transfer_id: int, chat_id: int, agent: Any) -> Transfer:
    chat_services.lock_chat(chat_id)
    transfer = _lock_transfer(transfer_id)
    if transfer.status != Transfer.Status.PENDING:
        raise TransferNotPending(
            f"This transfer is already {transfer.get_status_display().lower()}."
        )
    _close(transfer, status=Transfer.Status.CANCELLED, now=timezone.now())
    _publish_withdrawn(transfer, by=agent)
    return transfer


# --- The system closes requests: deadline passed, chat closed or back in the queue -------------


def transfer_expiry_sweep(*, now: datetime | None = None) -> list[int]:
    """Expire every pending request past its deadline; the ids expired.

    Each in its own short transaction under the transfer's row lock, skipping one that another
    transaction holds (a receiver answering right now: their answer decides) and re-checked
    under the lock.
    """
    now = now or timezone.now()
    return [pk for pk in transfer_selectors.expired_transfer_ids(now=now) if _expire_one(pk, now)]


@transaction.atomic
def _expire_one(transfer_id: int, now: datetime) -> bool:
    transfer = _skip_locked(
        _transfers().filter(pk=transfer_id, status=Transfer.Status.PENDING, expires_at__lte=now)
    ).first()
    if transfer is None:
        return False
    _expire(transfer, now=now)
    return True


@transaction.atomic
def transfer_cancel_for_chat(*, chat_id: int, reason: str) -> Transfer | None:
    """The chat closed or went back to the queue: its pending request (if any) is cancelled,
    the sender told why, the receiver's card withdrawn."""
    pending = (
        _transfers()
        .select_for_update(of=("self",))
        .filter(chat_id=chat_id, status=Transfer.Status.PENDING)
        .first()
    )
    if pending is None:
        return None
    _close(pending, status=Transfer.Status.CANCELLED, reason=reason, now=timezone.now())
    _publish_withdrawn(pending, by=None)
    logger.info("transfer %s cancelled: %s", pending.pk, reason)
    return pending
