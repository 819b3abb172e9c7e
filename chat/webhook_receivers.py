"""Chat's domain events as webhooks (docs/webhooks.md): chat.created, chat.assigned,
message.created and chat.closed.

The signals are sent after commit, so what they announce is stored; each receiver builds its
payload with one query, and only when some subscription wants the event (helpdesk.webhooks.emit
calls the builder lazily). A receiver never raises: the change it reports is committed and the
request or frame that made it must not fail because of a webhook.

Internal notes (ChatNote) and transfer notes are staff-only and never part of a payload; every
message kind here (customer, agent, system, bot) is one the customer saw too. A bot message (an
automated answer) has no author and the same keys as the others: its body reads on its own, and
its structured `data` stays on the websocket so the payload's shape is the same for every kind.
chat.closed carries the chat's close_reason as stored (Chat.CloseReason, `resolved_by_bot`
included).
"""

import logging
from collections.abc import Callable
from typing import Any

from chat import events
from chat.models import Chat, Message
from helpdesk import webhooks

logger = logging.getLogger(__name__)

_CHAT_RELATED = ("topic", "customer", "agent")


def chat_data(chat: Chat) -> dict[str, Any]:
    """The chat as integrators see it; needs `topic`, `customer` and `agent` loaded (floor-3
    apps reuse it for their events)."""
    return {
        "id": chat.pk,
        "status": chat.status,
        "topic": webhooks.topic_data(chat.topic),
        "customer": webhooks.customer_data(chat.customer),
        "agent": webhooks.user_data(chat.agent),
        "created_at": webhooks.iso(chat.created_at),
        "assigned_at": webhooks.iso(chat.assigned_at),
        "closed_at": webhooks.iso(chat.closed_at),
        "closed_by": chat.closed_by or None,
        "close_reason": chat.close_reason or None,
        "transfer_count": chat.transfer_count,
    }


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "seq": message.seq,
        "kind": message.kind,
        "body": message.body,
        "author": webhooks.user_data(message.author) if message.kind == "agent" else None,
        "created_at": webhooks.iso(message.created_at),
    }


def _chat(chat_id: int) -> Chat:
    return Chat.objects.select_related(*_CHAT_RELATED).get(pk=chat_id)


def emit_safely(event: str, build: Callable[[], dict[str, Any]]) -> None:
    """emit, logging instead of raising (the event is committed whatever happens here)."""
    try:
        webhooks.emit(event=event, data=build)
    except Exception:
        logger.exception("could not emit the %s webhook", event)


def on_chat_queued(sender: Any, *, chat_id: int, requeued: bool = False, **kwargs: Any) -> None:
    # A chat back in the queue (its agent left, a transfer to a topic) is not a new chat.
    if requeued:
        return
    emit_safely("chat.created", lambda: {"chat": chat_data(_chat(chat_id))})


def on_chat_assigned(sender: Any, *, chat_id: int, agent_id: int, **kwargs: Any) -> None:
    def build() -> dict[str, Any]:
        chat = _chat(chat_id)
        # The agent named by the event, even if the chat moved on since the commit.
        agent = chat.agent if chat.agent_id == agent_id else _agent(agent_id)
        return {"chat": chat_data(chat), "agent": webhooks.user_data(agent)}

    emit_safely("chat.assigned", build)


def _agent(agent_id: int) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=agent_id).first()


def on_message_posted(sender: Any, *, chat_id: int, message_id: int, **kwargs: Any) -> None:
    def build() -> dict[str, Any]:
        message = Message.objects.select_related(
            "author", *(f"chat__{name}" for name in _CHAT_RELATED)
        ).get(pk=message_id)
        return {"chat": chat_data(message.chat), "message": message_data(message)}

    emit_safely("message.created", build)


def on_chat_closed(sender: Any, *, chat_id: int, **kwargs: Any) -> None:
    emit_safely("chat.closed", lambda: {"chat": chat_data(_chat(chat_id))})


# Connected on import (chat/apps.py imports this module in ready()).
events.chat_queued.connect(on_chat_queued, dispatch_uid="chat.webhooks.created")
events.chat_assigned.connect(on_chat_assigned, dispatch_uid="chat.webhooks.assigned")
events.message_posted.connect(on_message_posted, dispatch_uid="chat.webhooks.message")
events.chat_closed.connect(on_chat_closed, dispatch_uid="chat.webhooks.closed")
