"""Shared by the transfer tests: chats held by an agent, and a snapshot of everything a
refused transfer must leave untouched."""

from typing import Any

from chat import services as chat_services
from chat.models import Chat, ChatEvent, Message
from routing.models import Transfer
from tests.helpers import start_chat

NOTE = "Ana wants to swap size 39 boots for 40; order 4471, already checked stock."


def held_chat(agent: Any, *, topic: Any, message: str = "Where is my parcel?") -> Chat:
    """An active chat of `agent` with a short conversation."""
    chat = start_chat(topic=topic, message=message)
    chat_services.chat_assign(chat_id=chat.pk, agent=agent)
    chat_services.message_post(
        chat_id=chat.pk,
        sender=chat_services.Participant.agent(agent),
        body="Hello Ana, let me look into it.",
    )
    return Chat.objects.select_related("agent", "topic").get(pk=chat.pk)


def state() -> dict[str, Any]:
    """Everything a transfer could change: chats, messages, timeline, transfers."""
    return {
        "chats": list(
            Chat.objects.order_by("pk").values_list(
                "pk",
                "status",
                "agent_id",
                "topic_id",
                "transfer_count",
                "transfer_note",
                "transferred_by_id",
                "last_seq",
                "queue_priority",
            )
        ),
        "messages": Message.objects.count(),
        "events": list(ChatEvent.objects.order_by("pk").values_list("pk", "kind")),
        "transfers": list(
            Transfer.objects.order_by("pk").values_list("pk", "status", "reason", "decided_at")
        ),
    }


def reload(chat: Chat) -> Chat:
    return Chat.objects.select_related("agent", "topic", "transferred_by").get(pk=chat.pk)
