"""Chats that need a supervisor's eye: customers waiting past their topic's red threshold, and
chats whose agent did not answer in time (the no-reply timeout).

Each is flagged once per wait (a FLAGGED ChatEvent, the timeline supervisors and metrics read)
and announced to every supervisor's console with an `alert` frame; a console that opens later
asks for the current list with an `attention` frame.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from chat import events as chat_events
from chat import protocol as chat_protocol
from chat.models import Chat, ChatEvent
from chat.selectors import last_customer_message_body
from helpdesk.errors import Forbidden
from helpdesk.roles import is_supervisor

logger = logging.getLogger(__name__)

ATTENTION_LIMIT = 100


def _waited_seconds(awaiting_reply_since: datetime, now: datetime) -> int:
    return max(int((now - awaiting_reply_since).total_seconds()), 0)


def _open_waits():  # type: ignore[no-untyped-def]
    return Chat.objects.filter(
        status__in=[Chat.Status.QUEUED, Chat.Status.ACTIVE], awaiting_reply_since__isnull=False
    )


def _flagged_in_this_wait() -> Exists:
    return Exists(
        ChatEvent.objects.filter(
            chat_id=OuterRef("pk"),
            kind=ChatEvent.Kind.FLAGGED,
            created_at__gte=OuterRef("awaiting_reply_since"),
        )
    )


def past_red_chat_ids(*, now: datetime | None = None) -> list[int]:
    """Open chats whose customer has waited past the topic's red threshold and that were not
    flagged yet in this wait, longest wait first (one query).

    The comparison is made here, not in SQL: per-topic durations compare differently on each
    database, and the candidates are at most the open chats.
    """
    now = now or timezone.now()
    rows = (
        _open_waits()
        .exclude(_flagged_in_this_wait())
        .order_by("awaiting_reply_since", "pk")
        .values_list("pk", "awaiting_reply_since", "topic__red_after_seconds")
    )
    return [pk for pk, awaiting, red_after in rows if now - awaiting > timedelta(seconds=red_after)]


def alert_frame(*, chat: Chat, reason: str, now: datetime) -> dict[str, Any]:
    """`reason`: "red" (waited past the red threshold) or "no_reply" (the agent did not
    answer in time; the chat went back to the queue)."""
    return {
        "type": "alert",
        "reason": reason,
        "chat": chat_protocol.chat_frame_for_staff(
            chat, preview=last_customer_message_body(chat_id=chat.pk)
        ),
        "waited_seconds": (
            _waited_seconds(chat.awaiting_reply_since, now) if chat.awaiting_reply_since else None
        ),
        "at": now.isoformat(),
    }


def _publish_alert(*, chat: Chat, reason: str, now: datetime) -> None:
    chat_events.publish_on_commit(
        groups=[chat_events.SUPERVISORS_GROUP], frame=alert_frame(chat=chat, reason=reason, now=now)
    )


def _lock(chat_id: int) -> Chat | None:
    qs = Chat.objects.filter(pk=chat_id).select_related(
        "topic", "customer", "agent", "transferred_by"
    )
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",)).first()
    return qs.select_for_update().first()


def red_flag_sweep(*, now: datetime | None = None) -> list[int]:
    """Flag to supervisors every open chat past its red threshold, once per wait."""
    return [chat_id for chat_id in past_red_chat_ids(now=now) if _flag(chat_id, now)]


@transaction.atomic
def _flag(chat_id: int, now: datetime | None) -> bool:
    chat = _lock(chat_id)
    now = now or timezone.now()
    if chat is None or chat_id not in past_red_chat_ids(now=now) or chat.status == "closed":
        # Another sweep holds or flagged it, or the customer was answered meanwhile.
        return False
    waited = _waited_seconds(chat.awaiting_reply_since, now)
    ChatEvent.objects.create(
        chat=chat, kind=ChatEvent.Kind.FLAGGED, data={"reason": "red", "waited": waited}
    )
    _publish_alert(chat=chat, reason="red", now=now)
    logger.info("chat %s flagged: waited %s s past red", chat_id, waited)
    return True


def flag_no_reply(*, chat_id: int, previous_agent_id: int, now: datetime | None = None) -> None:
    """The no-reply timeout took the chat from its agent: supervisors see it (call inside the
    requeue's transaction)."""
    now = now or timezone.now()
    chat = Chat.objects.select_related("topic", "customer", "agent", "transferred_by").get(
        pk=chat_id
    )
    waited = _waited_seconds(chat.awaiting_reply_since, now) if chat.awaiting_reply_since else 0
    ChatEvent.objects.create(
        chat=chat,
        kind=ChatEvent.Kind.FLAGGED,
        data={"reason": "no_reply", "waited": waited, "previous_agent": previous_agent_id},
    )
    _publish_alert(chat=chat, reason="no_reply", now=now)


def attention_frame(*, user: Any, now: datetime | None = None) -> dict[str, Any]:
    """Supervisors: the open chats flagged in their current wait (red or no-reply), longest
    wait first, at most ATTENTION_LIMIT. Two queries whatever their number."""
    if not is_supervisor(user):
        raise Forbidden("Only supervisors see the chats that need attention.")
    now = now or timezone.now()
    flagged = ChatEvent.objects.filter(
        chat_id=OuterRef("pk"),
        kind=ChatEvent.Kind.FLAGGED,
        created_at__gte=OuterRef("awaiting_reply_since"),
    ).order_by("-created_at", "-pk")
    chats = list(
        _open_waits()
        .filter(Exists(flagged))
        .annotate(flag=Subquery(flagged.values("data__reason")[:1]))
        .select_related("topic", "customer", "agent", "transferred_by")
        .order_by("awaiting_reply_since", "pk")[:ATTENTION_LIMIT]
    )
    return {
        "type": "attention",
        "chats": [
            {
                "reason": chat.flag,
                "waited_seconds": _waited_seconds(chat.awaiting_reply_since, now),
                "chat": chat_protocol.chat_frame_for_staff(chat, preview=None),
            }
            for chat in chats
        ],
        "server_time": now.isoformat(),
    }
