"""The frames routing adds to the wire (docs/protocol.md, "Frames added by routing")."""

from typing import Any


def queue_frame(
    *,
    chat_id: int,
    position: int | None,
    estimated_wait_seconds: int | None,
    agents_available: bool | None,
    message_offered: bool | None = None,
) -> dict[str, Any]:
    """Where a queued chat stands. Only ever sent to that chat's customer group.

    `message_offered`: the customer may leave a message instead of waiting (`leave_message`);
    staying is the default. A chat that is not queued (active or closed) is answered with
    every field null.
    """
    return {
        "type": "queue",
        "chat": chat_id,
        "position": position,
        "estimated_wait_seconds": estimated_wait_seconds,
        "agents_available": agents_available,
        "message_offered": message_offered,
    }


def not_queued_frame(*, chat_id: int) -> dict[str, Any]:
    return queue_frame(
        chat_id=chat_id,
        position=None,
        estimated_wait_seconds=None,
        agents_available=None,
        message_offered=None,
    )


def ticket_frame(*, chat_id: int, reference: str) -> dict[str, Any]:
    """The answer to `leave_message`: the message is stored as a ticket with this reference
    (and the chat is closed)."""
    return {"type": "ticket", "chat": chat_id, "reference": reference}
