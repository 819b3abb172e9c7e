"""Frames routing adds to the agent's console (registered with chat.dispatch in apps.py)."""

from typing import Any

from chat.protocol import ProtocolError
from chat.services import Participant
from routing import services


def status_frame(*, actor: Participant, chat_id: int | None, data: dict[str, Any]) -> list[dict]:
    """`{"type": "status", "status": "online"|"away"}` -> `{"type": "agent_status", ...}`."""
    status = data.get("status")
    # Exact strings only: no case folding, no trimming, no lists, no null.
    if not isinstance(status, str) or status not in services.CHOOSABLE_STATUSES:
        raise ProtocolError("invalid_frame", '\'status\' must be "online" or "away".')
    profile = services.agent_status_set(agent=actor.user, status=status)
    return [{"type": "agent_status", "status": profile.status}]
