"""The frames routing adds to the wire (docs/protocol.md, "Frames added by routing")."""

from typing import Any


def queue_frame(
    *,
    chat_id: int,
    position: int | None,
    estimated_wait_seconds: int | None,
    agents_available: bool | None,
) -> dict[str, Any]:
    """Where a queued chat stands. Only ever sent to that chat's customer group.

    A chat that is not queued (active or closed) is answered with every field null.
    """
    return {
        "type": "queue",
        "chat": chat_id,
        "position": position,
        "estimated_wait_seconds": estimated_wait_seconds,
        "agents_available": agents_available,
    }


def not_queued_frame(*, chat_id: int) -> dict[str, Any]:
    return queue_frame(
        chat_id=chat_id, position=None, estimated_wait_seconds=None, agents_available=None
    )
