"""Reads of the live chat, shaped for the sockets and pages that need them."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from chat import protocol, scopes
from chat.errors import ChatNotFound
from chat.models import Chat, ChatEvent, Message
from chat.tokens import customer_key_matches, customer_token_read
from helpdesk.roles import is_agent, is_supervisor

RESUME_BATCH = 200
CONSOLE_QUEUE_LIMIT = 200


def last_customer_message_body(*, chat_id: int) -> str | None:
    return (
        Message.objects.filter(chat_id=chat_id, kind=Message.Kind.CUSTOMER)
        .order_by("-seq")
        .values_list("body", flat=True)
        .first()
    )


def chat_get_by_customer_token(*, token: str) -> Chat | None:
    claim = customer_token_read(token)
    if claim is None:
        return None
    chat = (
        Chat.objects.select_related("topic", "customer", "agent").filter(pk=claim.chat_id).first()
    )
    if chat is None or not customer_key_matches(claim=claim, customer_key=chat.customer_key):
        return None
    return chat


@dataclass(frozen=True)
class ConsoleAccess:
    # The topics whose queue the console follows (None: every topic).
    queue_topics: frozenset[int] | None
    is_supervisor: bool


def console_access(*, user: Any) -> ConsoleAccess | None:
    """What a console of this user follows, or None when the user may not use the console."""
    if not is_agent(user):
        return None
    return staff_access(user=user)


def staff_access(*, user: Any) -> ConsoleAccess:
    """What a staff member sees: the queues they follow, and whether they supervise."""
    supervisor = is_supervisor(user)
    return ConsoleAccess(
        queue_topics=None if supervisor else scopes.queue_topics(user), is_supervisor=supervisor
    )


def readable_by(agent: Any, *, access: ConsoleAccess) -> Q:
    """The chats a staff member may read: theirs, those waiting in the queues they see, and
    those they held before (read-only once passed on). Supervisors read every chat."""
    if access.is_supervisor:
        return Q()
    queued = Q(status=Chat.Status.QUEUED)
    if access.queue_topics is not None:
        queued &= Q(topic_id__in=access.queue_topics)
    held_before = Exists(
        ChatEvent.objects.filter(
            chat_id=OuterRef("pk"),
            kind__in=[ChatEvent.Kind.ASSIGNED, ChatEvent.Kind.TRANSFERRED],
            data__agent=agent.pk,
        )
    )
    return Q(agent_id=agent.pk) | queued | held_before


def chat_get_for_agent(*, chat_id: int, agent: Any, access: ConsoleAccess | None = None) -> Chat:
    """A chat a staff member may read (`readable_by`); ChatNotFound for any other.

    A console passes the access it computed when it opened (one query per frame instead of
    three or four); other callers let it be computed now.
    """
    access = access or staff_access(user=agent)
    chat = (
        Chat.objects.select_related("topic", "customer", "agent", "transferred_by")
        .filter(readable_by(agent, access=access), pk=chat_id)
        .first()
    )
    if chat is None:
        raise ChatNotFound()
    return chat


def chat_frame_for_agent(
    *, chat_id: int, agent: Any, access: ConsoleAccess | None = None
) -> dict[str, Any]:
    """The staff `chat` frame of a chat the staff member may read."""
    chat = chat_get_for_agent(chat_id=chat_id, agent=agent, access=access)
    return protocol.chat_frame_for_staff(chat, preview=last_customer_message_body(chat_id=chat.pk))


def _message_frames_after(*, chat: Chat, after_seq: int) -> tuple[list[dict[str, Any]], bool]:
    """The next batch of a chat's messages after `after_seq`, and whether more follow."""
    rows = list(
        Message.objects.filter(chat_id=chat.pk, seq__gt=after_seq)
        .select_related("author")
        .order_by("seq")[: RESUME_BATCH + 1]
    )
    customer_name = chat.customer.name
    frames = [
        protocol.message_frame(message, customer_name=customer_name)
        for message in rows[:RESUME_BATCH]
    ]
    return frames, len(rows) > RESUME_BATCH


def message_frames_for_customer(
    *, chat_id: int, after_seq: int
) -> tuple[list[dict[str, Any]], bool]:
    chat = Chat.objects.select_related("customer").filter(pk=chat_id).first()
    if chat is None:
        raise ChatNotFound()
    return _message_frames_after(chat=chat, after_seq=after_seq)


def message_frames_for_agent(
    *, chat_id: int, agent: Any, after_seq: int, access: ConsoleAccess | None = None
) -> tuple[list[dict[str, Any]], bool]:
    chat = chat_get_for_agent(chat_id=chat_id, agent=agent, access=access)
    return _message_frames_after(chat=chat, after_seq=after_seq)


def queue_order(chats: QuerySet[Chat]) -> QuerySet[Chat]:
    """The queue's order: chats whose agent left first, then by time in the queue."""
    return chats.order_by("-queue_priority", "queued_at", "pk")


def console_chat_frames(
    *, agent: Any, queue_topics: frozenset[int] | None = None
) -> list[dict[str, Any]]:
    """What an agent's console shows on (re)connect: their open chats, then the queue of the
    topics they see (every topic: None).

    Two queries whatever the number of chats (asserted in tests); the queue is cut at the
    CONSOLE_QUEUE_LIMIT longest-waiting chats.
    """
    last_customer_body = Subquery(
        Message.objects.filter(chat_id=OuterRef("pk"), kind=Message.Kind.CUSTOMER)
        .order_by("-seq")
        .values("body")[:1]
    )
    base = (
        Chat.objects.select_related("topic", "customer", "agent", "transferred_by")
        .annotate(preview=last_customer_body)
        # Longest wait first, answered chats (NULL) last: SQLite would sort NULLs first.
        .order_by(F("awaiting_reply_since").asc(nulls_last=True), "created_at")
    )
    mine = list(base.filter(agent_id=agent.pk, status=Chat.Status.ACTIVE))
    queued = base.filter(status=Chat.Status.QUEUED)
    if queue_topics is not None:
        queued = queued.filter(topic_id__in=queue_topics)
    queue = list(queue_order(queued)[:CONSOLE_QUEUE_LIMIT])
    return [protocol.chat_frame_for_staff(chat, preview=chat.preview) for chat in mine + queue]
