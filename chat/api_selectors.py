"""Reads of the integrators' chat API (/api/v1/chats/, docs/api.md).

A token acts as its user, so every read starts from `chat.selectors.readable_by`: an agent's
token reads what that agent's console may read (their chats, the queue of their topics, chats
they held before), a supervisor's every chat. Anything else is `chat_not_found`, exactly like a
chat that does not exist, so a token never learns which chats exist.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from chat.models import Chat, Message
from chat.selectors import ConsoleAccess, chat_get_for_agent, readable_by, staff_access
from helpdesk.query_filters import created_between, filter_given

CHAT_RELATED = ("topic", "customer", "agent", "transferred_by")


def chats_for_api(
    *,
    user: Any,
    access: ConsoleAccess | None = None,
    status: str | None = None,
    topic_slug: str | None = None,
    agent_id: int | None = None,
    customer_email: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Chat]:
    """The chats `user` may read, narrowed by the filters given (None: not filtered), with
    what a list shows joined in: one query per page whatever its length. The caller orders
    it (the API's cursor pagination orders by id)."""
    access = access or staff_access(user=user)
    chats = filter_given(
        Chat.objects.filter(readable_by(user, access=access)).select_related(*CHAT_RELATED),
        status=status,
        topic__slug=topic_slug,
        agent_id=agent_id,
        customer__email__iexact=customer_email,
    )
    return created_between(chats, after=created_after, before=created_before)


def chat_for_api(*, chat_id: int, user: Any, access: ConsoleAccess | None = None) -> Chat:
    """One chat `user` may read; ChatNotFound (404 `chat_not_found`) for any other."""
    return chat_get_for_agent(chat_id=chat_id, agent=user, access=access)


def chat_get(*, chat_id: int) -> Chat:
    """A chat by id whoever asks: only for the answer to the caller's own write (a chat they
    just started may be in a queue their token cannot read)."""
    return Chat.objects.select_related(*CHAT_RELATED).get(pk=chat_id)


@dataclass(frozen=True)
class MessagePage:
    chat: Chat
    messages: list[Message]
    # Whether messages after the last one of this page exist already.
    more: bool


def messages_for_api(
    *, chat_id: int, user: Any, after_seq: int, limit: int, access: ConsoleAccess | None = None
) -> MessagePage:
    """The messages of a readable chat with `seq` above `after_seq`, oldest first, at most
    `limit`: two queries (the chat, its messages with their authors)."""
    chat = chat_for_api(chat_id=chat_id, user=user, access=access)
    rows = list(
        Message.objects.filter(chat_id=chat.pk, seq__gt=after_seq)
        .select_related("author")
        .order_by("seq")[: limit + 1]
    )
    return MessagePage(chat=chat, messages=rows[:limit], more=len(rows) > limit)
