"""Reads of the live chat, shaped for the sockets and pages that need them."""

from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from chat import protocol
from chat.errors import ChatNotFound
from chat.models import Chat, Message
from chat.tokens import customer_key_matches, customer_token_read
from helpdesk.roles import is_agent

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


def chat_get_for_agent(*, chat_id: int, agent: Any) -> Chat:
    """A chat an agent may read: one of theirs, or any chat waiting in the queue."""
    chat = (
        Chat.objects.select_related("topic", "customer", "agent")
        .filter(Q(agent_id=agent.pk) | Q(status=Chat.Status.QUEUED), pk=chat_id)
        .first()
    )
    if chat is None:
        raise ChatNotFound()
    return chat


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
    *, chat_id: int, agent: Any, after_seq: int
) -> tuple[list[dict[str, Any]], bool]:
    chat = chat_get_for_agent(chat_id=chat_id, agent=agent)
    return _message_frames_after(chat=chat, after_seq=after_seq)


def queue_order(chats: QuerySet[Chat]) -> QuerySet[Chat]:
    """The queue's order: chats whose agent left first, then by time in the queue."""
    return chats.order_by("-queue_priority", "queued_at", "pk")


def console_chat_frames(*, agent: Any) -> list[dict[str, Any]]:
    """What an agent's console shows on (re)connect: their open chats, then the queue.

    Two queries whatever the number of chats (asserted in tests); the queue is cut at the
    CONSOLE_QUEUE_LIMIT longest-waiting chats.
    """
    last_customer_body = Subquery(
        Message.objects.filter(chat_id=OuterRef("pk"), kind=Message.Kind.CUSTOMER)
        .order_by("-seq")
        .values("body")[:1]
    )
    base = (
        Chat.objects.select_related("topic", "customer", "agent")
        .annotate(preview=last_customer_body)
        # Longest wait first, answered chats (NULL) last: SQLite would sort NULLs first.
        .order_by(F("awaiting_reply_since").asc(nulls_last=True), "created_at")
    )
    mine = list(base.filter(agent_id=agent.pk, status=Chat.Status.ACTIVE))
    queue = list(queue_order(base.filter(status=Chat.Status.QUEUED))[:CONSOLE_QUEUE_LIMIT])
    return [protocol.chat_frame_for_staff(chat, preview=chat.preview) for chat in mine + queue]


def console_snapshot(*, user: Any) -> list[dict[str, Any]] | None:
    """The console's opening state, or None when the user may not use the console."""
    if not is_agent(user):
        return None
    return console_chat_frames(agent=user)
