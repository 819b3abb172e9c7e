"""Frames routing adds to the sockets (registered with chat.dispatch in apps.py)."""

from typing import Any

from chat.protocol import ProtocolError
from chat.services import Participant
from routing import attention, live_receivers, selectors, services


def status_frame(*, actor: Participant, chat_id: int | None, data: dict[str, Any]) -> list[dict]:
    """`{"type": "status", "status": "online"|"away"}` -> `{"type": "agent_status", ...}`."""
    status = data.get("status")
    # Exact strings only: no case folding, no trimming, no lists, no null.
    if not isinstance(status, str) or status not in services.CHOOSABLE_STATUSES:
        raise ProtocolError("invalid_frame", '\'status\' must be "online" or "away".')
    profile = services.agent_status_set(agent=actor.user, status=status)
    # The status has no signal of its own (agent_available covers only online): the live
    # page hears about "away" from here.
    live_receivers.ring_on_commit()
    return [{"type": "agent_status", "status": profile.status}]


def queue_status_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict]:
    """Customer: `{"type": "queue_status"}` -> the chat's current `queue` frame.

    The consumer passes the customer's own chat (the token's); any other field is ignored.
    A chat not in the queue gets a `queue` frame whose fields are all null.
    """
    if chat_id is None:  # pragma: no cover - the customer consumer always knows its chat
        raise ProtocolError("invalid_frame", "No chat.")
    return [selectors.queue_frame_for_chat(chat_id=chat_id)]


def leave_message_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict]:
    """Customer: `{"type": "leave_message", "body": ..., "email"?: ...}` -> `ticket` frame.

    Only for the socket's own chat (the token's), only while it is queued.
    """
    # Imported here so this handler is a pure append to the module (others append too).
    from routing import offers, protocol

    if chat_id is None:  # pragma: no cover - the customer consumer always knows its chat
        raise ProtocolError("invalid_frame", "No chat.")
    body = data.get("body")
    if not isinstance(body, str):
        raise ProtocolError("invalid_frame", "'body' must be a string.")
    email = data.get("email")
    if email is None:
        email = ""
    if not isinstance(email, str):
        raise ProtocolError("invalid_frame", "'email' must be a string.")
    ticket = offers.leave_message(chat_id=chat_id, body=body, email=email)
    return [protocol.ticket_frame(chat_id=chat_id, reference=ticket.reference)]


def attention_request_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict]:
    """Supervisors: `{"type": "attention"}` -> the chats flagged to supervisors now."""
    return [attention.attention_frame(user=actor.user)]
