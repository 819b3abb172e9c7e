"""The console's `block` frame (registered for agents only in apps.py: a customer sending it gets
`unknown_type`). docs/protocol.md, "Difficult customers"."""

from datetime import timedelta
from typing import Any

from chat import blocking
from chat.protocol import ProtocolError
from chat.services import Participant

# The choices the console offers are 1 h, 24 h and 7 days; the wire takes any whole number of
# minutes up to 7 days (helpdesk.models.BLOCK_IP_MAX_DURATION). 0 or absent: not the address.
BLOCK_IP_MAX_MINUTES = 7 * 24 * 60


def _block_ip_for(data: dict[str, Any]) -> timedelta | None:
    minutes = data.get("block_ip_minutes", 0)
    if minutes is None:
        minutes = 0
    # bool is an int in Python, never on our wire.
    if (
        not isinstance(minutes, int)
        or isinstance(minutes, bool)
        or not 0 <= minutes <= BLOCK_IP_MAX_MINUTES
    ):
        raise ProtocolError(
            "invalid_frame",
            f"'block_ip_minutes' must be an integer from 0 to {BLOCK_IP_MAX_MINUTES}.",
        )
    return timedelta(minutes=minutes) if minutes else None


def block_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """`{"type": "block", "chat": id, "reason": "...", "block_ip_minutes"?: 0..10080}`: end the
    chat and block its customer. Answered `{"type": "blocked", "chat": id, "block": id}`."""
    if chat_id is None:
        raise ProtocolError("invalid_frame", "'chat' must be an integer >= 1.")
    reason = data.get("reason")
    if not isinstance(reason, str):
        # Its content (required, at most 500 characters) is the service's rule.
        raise ProtocolError("invalid_frame", "'reason' must be a string.")
    block = blocking.chat_block(
        chat_id=chat_id, by=actor.user, reason=reason, block_ip_for=_block_ip_for(data)
    )
    return [{"type": "blocked", "chat": chat_id, "block": block.pk}]
