"""The transfer frames on the wire (docs/protocol.md, "Transfers and escalation").

Client frames are validated here into small typed objects (or a ProtocolError with a code);
server frames are built by the `*_frame` functions. Every one of them goes to consoles only:
notes and reasons are internal and never reach a customer's group.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from chat.protocol import ProtocolError, staff_display_name
from routing.models import Transfer

# A topic slug on the wire (helpdesk.Topic.slug is a SlugField of 80).
TOPIC_SLUG_MAX_LENGTH = 80

TargetKind = Literal["agent", "senior", "topic"]


# --- Client -> server ------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferTarget:
    kind: TargetKind
    agent_id: int | None = None
    topic_slug: str = ""


@dataclass(frozen=True)
class TransferRequestFrame:
    chat_id: int
    target: TransferTarget
    note: str


@dataclass(frozen=True)
class TransferReplyFrame:
    transfer_id: int
    accept: bool
    reason: str
    chat_id: int | None


def _is_int(value: Any) -> bool:
    # bool is an int in Python, never on our wire.
    return isinstance(value, int) and not isinstance(value, bool)


def require_chat(chat_id: int | None) -> int:
    """The consumer parsed `chat` already (an integer >= 1 when present); these frames need it."""
    if chat_id is None:
        raise ProtocolError("invalid_frame", "'chat' must be an integer >= 1.")
    return chat_id


def transfer_id_field(data: dict[str, Any]) -> int:
    value = data.get("transfer")
    if not _is_int(value) or value < 1:
        raise ProtocolError("invalid_frame", "'transfer' must be an integer >= 1.")
    return int(value)


def _target(value: Any) -> TransferTarget:
    """Exactly one of {"agent": <id>}, {"topic": "<slug>"}, {"senior": true}."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ProtocolError(
            "invalid_frame",
            '\'to\' must be one of {"agent": <id>}, {"topic": "<slug>"}, {"senior": true}.',
        )
    ((key, target),) = value.items()
    if key == "agent":
        if not _is_int(target) or target < 1:
            raise ProtocolError("invalid_frame", "'to.agent' must be an integer >= 1.")
        return TransferTarget(kind="agent", agent_id=target)
    if key == "topic":
        if not isinstance(target, str) or not 1 <= len(target) <= TOPIC_SLUG_MAX_LENGTH:
            raise ProtocolError("invalid_frame", "'to.topic' must be a topic's slug.")
        return TransferTarget(kind="topic", topic_slug=target)
    if key == "senior":
        if target is not True:
            raise ProtocolError("invalid_frame", "'to.senior' must be true.")
        return TransferTarget(kind="senior")
    raise ProtocolError("invalid_frame", "'to' must name an agent, a topic or a senior.")


def parse_transfer(*, chat_id: int | None, data: dict[str, Any]) -> TransferRequestFrame:
    chat = require_chat(chat_id)
    target = _target(data.get("to"))
    note = data.get("note")
    if not isinstance(note, str):
        # Its content (required, at most 1000 characters) is the service's rule.
        raise ProtocolError("invalid_frame", "'note' must be a string.")
    return TransferRequestFrame(chat_id=chat, target=target, note=note)


def parse_transfer_reply(*, chat_id: int | None, data: dict[str, Any]) -> TransferReplyFrame:
    transfer_id = transfer_id_field(data)
    accept = data.get("accept")
    if not isinstance(accept, bool):
        raise ProtocolError("invalid_frame", "'accept' must be true or false.")
    reason = data.get("reason")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise ProtocolError("invalid_frame", "'reason' must be a string.")
    return TransferReplyFrame(
        transfer_id=transfer_id, accept=accept, reason=reason, chat_id=chat_id
    )


# --- Server -> client ------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def person(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": staff_display_name(user)} if user is not None else None


def transfer_frame(transfer: Transfer) -> dict[str, Any]:
    """A transfer as its sender sees it (the answer to `transfer`, and in `transfers`).

    The caller loads to_agent and to_topic (select_related)."""
    topic = transfer.to_topic
    return {
        "type": "transfer",
        "id": transfer.pk,
        "chat": transfer.chat_id,
        "kind": transfer.kind,
        "status": transfer.status,
        "to_agent": person(transfer.to_agent),
        "to_topic": {"slug": topic.slug, "name": topic.name} if topic is not None else None,
        "note": transfer.note,
        "reason": transfer.reason or None,
        "created_at": _iso(transfer.created_at),
        "expires_at": _iso(transfer.expires_at),
        "decided_at": _iso(transfer.decided_at),
    }


def transfer_request_frame(transfer: Transfer, *, chat_frame: dict[str, Any]) -> dict[str, Any]:
    """What the receiver's consoles get: the chat (staff frame), who asks, and the note."""
    return {
        "type": "transfer_request",
        "id": transfer.pk,
        "chat": chat_frame,
        "from": person(transfer.requested_by),
        "kind": transfer.kind,
        "note": transfer.note,
        "created_at": _iso(transfer.created_at),
        "expires_at": _iso(transfer.expires_at),
    }


def transfer_result_frame(transfer: Transfer, *, by: Any) -> dict[str, Any]:
    """How a request ended, for its sender (and the receiver's other consoles)."""
    return {
        "type": "transfer_result",
        "id": transfer.pk,
        "chat": transfer.chat_id,
        "status": transfer.status,
        "reason": transfer.reason or None,
        "by": person(by),
    }


def transfer_cancelled_frame(transfer: Transfer) -> dict[str, Any]:
    """The receiver's request card goes away: cancelled by the sender, or expired."""
    return {
        "type": "transfer_cancelled",
        "id": transfer.pk,
        "chat": transfer.chat_id,
        "status": transfer.status,
        "reason": transfer.reason or None,
    }


def transfers_frame(
    *, sent: list[dict[str, Any]], received: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"type": "transfers", "sent": sent, "received": received}


def transfer_targets_frame(
    *, chat_id: int, agents: list[dict[str, Any]], topics: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"type": "transfer_targets", "chat": chat_id, "agents": agents, "topics": topics}
