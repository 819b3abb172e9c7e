"""The wire format: the one place that knows what frames look like (docs/protocol.md).

Client frames are parsed into small typed objects (or a ProtocolError with a code); server
frames are built by the `*_frame` functions, from models or from rows shaped by selectors.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from chat.models import CLIENT_MSG_ID_MAX_LENGTH, Chat, Message
from helpdesk.errors import DomainError

# Frames larger than this are answered with `frame_too_large` and not parsed. daphne closes
# the socket (1009) at twice this, so a client cannot make the server buffer megabytes.
MAX_FRAME_BYTES = 65536
PREVIEW_LENGTH = 140

Role = Literal["customer", "agent"]

_CLIENT_MSG_ID = re.compile(rf"^[A-Za-z0-9_.:\-]{{1,{CLIENT_MSG_ID_MAX_LENGTH}}}$")
_TYPES: dict[Role, frozenset[str]] = {
    "customer": frozenset({"message", "typing", "resume", "close", "ping"}),
    "agent": frozenset(
        {
            "message",
            "typing",
            "resume",
            "take",
            "close",
            "watch",
            "unwatch",
            "note",
            "summary",
            "ping",
        }
    ),
}
CORE_TYPES = frozenset().union(*_TYPES.values())


class ProtocolError(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(detail)


# --- Client -> server ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFrame:
    type: str
    chat: int | None = None


@dataclass(frozen=True)
class MessageFrame(ClientFrame):
    body: str = ""
    client_msg_id: str = ""
    # Agents only: how the message was written, and tone-guard phrases sent anyway.
    origin: str = ""
    tone_overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoteFrame(ClientFrame):
    body: str = ""


@dataclass(frozen=True)
class ExtensionFrame(ClientFrame):
    """A frame a feature app registered (chat.dispatch); its handler validates `data`."""

    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class ResumeFrame(ClientFrame):
    after_seq: int = 0


def _int_field(data: dict[str, Any], name: str, *, minimum: int) -> int:
    value = data.get(name)
    # bool is an int in Python, never on our wire.
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ProtocolError("invalid_frame", f"'{name}' must be an integer >= {minimum}.")
    return value


def parse_client_frame(data: Any, *, role: Role) -> ClientFrame:
    if not isinstance(data, dict):
        raise ProtocolError("invalid_frame", "A frame must be a JSON object.")
    frame_type = data.get("type")
    if not isinstance(frame_type, str):
        raise ProtocolError("invalid_frame", "A frame needs a string 'type'.")
    if frame_type not in _TYPES[role]:
        from chat.dispatch import frame_handler  # dispatch imports this module

        if frame_handler(role=role, frame_type=frame_type) is not None:
            # A feature frame may name a chat; the consumer checks it like any other.
            chat = _int_field(data, "chat", minimum=1) if "chat" in data else None
            return ExtensionFrame(type=frame_type, chat=chat, data=data)
        if frame_type in CORE_TYPES:
            raise ProtocolError("forbidden", f"'{frame_type}' frames are not allowed here.")
        raise ProtocolError("unknown_type", "Unknown frame type.")
    if frame_type == "ping":
        return ClientFrame(type="ping")

    # Customers may omit `chat` (the token implies it); if given it must be theirs.
    needs_chat = role == "agent" or "chat" in data
    chat = _int_field(data, "chat", minimum=1) if needs_chat else None

    if frame_type == "message":
        body = data.get("body")
        if not isinstance(body, str):
            raise ProtocolError("invalid_frame", "'body' must be a string.")
        client_msg_id = data.get("client_msg_id")
        # fullmatch: `$` alone would also accept a trailing newline.
        if not isinstance(client_msg_id, str) or not _CLIENT_MSG_ID.fullmatch(client_msg_id):
            raise ProtocolError(
                "invalid_frame",
                "'client_msg_id' must be 1-64 characters of letters, digits, '-', '_', '.', ':'.",
            )
        if role == "agent":
            origin, tone_overrides = _message_extras(data)
        else:
            origin, tone_overrides = "", ()
        return MessageFrame(
            type="message",
            chat=chat,
            body=body,
            client_msg_id=client_msg_id,
            origin=origin,
            tone_overrides=tone_overrides,
        )
    if frame_type == "note":
        body = data.get("body")
        if not isinstance(body, str):
            raise ProtocolError("invalid_frame", "'body' must be a string.")
        return NoteFrame(type="note", chat=chat, body=body)
    if frame_type == "resume":
        after_seq = _int_field(data, "after_seq", minimum=0)
        return ResumeFrame(type="resume", chat=chat, after_seq=after_seq)
    return ClientFrame(type=frame_type, chat=chat)


# Origins an agent may claim for a message (the automatic greeting is the server's own).
CLIENT_ORIGINS = frozenset({"", "canned", "hold"})
MAX_TONE_OVERRIDES = 10
TONE_PHRASE_MAX_LENGTH = 100


def _message_extras(data: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    origin = data.get("origin", "")
    if not isinstance(origin, str) or origin not in CLIENT_ORIGINS:
        raise ProtocolError("invalid_frame", '\'origin\' must be "canned" or "hold" if given.')
    overrides = data.get("tone_overrides", [])
    if (
        not isinstance(overrides, list)
        or len(overrides) > MAX_TONE_OVERRIDES
        or not all(
            isinstance(p, str) and 0 < len(p) <= TONE_PHRASE_MAX_LENGTH and "\x00" not in p
            for p in overrides
        )
    ):
        raise ProtocolError(
            "invalid_frame",
            f"'tone_overrides' must be a list of at most {MAX_TONE_OVERRIDES} phrases "
            f"of 1-{TONE_PHRASE_MAX_LENGTH} characters.",
        )
    return origin, tuple(dict.fromkeys(overrides))


# --- Server -> client ------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def author_name(message: Message, *, customer_name: str) -> str | None:
    """What the other side sees as the author; the caller passes what it has already loaded."""
    if message.kind == Message.Kind.CUSTOMER:
        return customer_name
    if message.kind == Message.Kind.AGENT and message.author is not None:
        return staff_display_name(message.author)
    return None


def staff_display_name(user: Any) -> str:
    """Customers see an agent's first name only."""
    return user.first_name or user.get_username()


def message_frame(message: Message, *, customer_name: str) -> dict[str, Any]:
    frame = {
        "type": "message",
        "chat": message.chat_id,
        "seq": message.seq,
        "kind": message.kind,
        "body": message.body,
        "author": author_name(message, customer_name=customer_name),
        "created_at": _iso(message.created_at),
        "client_msg_id": message.client_msg_id or None,
    }
    if message.kind == Message.Kind.BOT:
        # Only automated answers carry it: every other frame stays exactly as it was.
        frame["bot"] = message.data or {}
    return frame


def ack_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "ack",
        "chat": message.chat_id,
        "client_msg_id": message.client_msg_id,
        "seq": message.seq,
    }


def chat_frame_for_customer(chat: Chat) -> dict[str, Any]:
    return {
        "type": "chat",
        "id": chat.pk,
        "status": chat.status,
        "topic": {"slug": chat.topic.slug, "name": chat.topic.name},
        "agent": {"name": staff_display_name(chat.agent)} if chat.agent else None,
        "customer": {"name": chat.customer.name},
        "last_seq": chat.last_seq,
        "closed_by": chat.closed_by or None,
    }


def chat_frame_for_staff(chat: Chat, *, preview: str | None) -> dict[str, Any]:
    """`preview` is the last customer message, cut to PREVIEW_LENGTH by the caller's query."""
    return {
        "type": "chat",
        "id": chat.pk,
        "status": chat.status,
        "topic": {
            "slug": chat.topic.slug,
            "name": chat.topic.name,
            # The console colours the customer's wait against these (seconds).
            "amber_after": chat.topic.amber_after_seconds,
            "red_after": chat.topic.red_after_seconds,
        },
        "customer": {"name": chat.customer.name, "email": chat.customer.email or None},
        "agent": (
            {"id": chat.agent.pk, "name": staff_display_name(chat.agent)} if chat.agent else None
        ),
        "last_seq": chat.last_seq,
        "created_at": _iso(chat.created_at),
        "assigned_at": _iso(chat.assigned_at),
        "awaiting_reply_since": _iso(chat.awaiting_reply_since),
        "last_customer_message_at": _iso(chat.last_customer_message_at),
        "closed_at": _iso(chat.closed_at),
        "closed_by": chat.closed_by or None,
        # Why it closed, when it was not an ordinary close: "abandoned" (the customer left the
        # queue), else null.
        "close_reason": chat.close_reason or None,
        "preview": preview[:PREVIEW_LENGTH] if preview else None,
        "transfer_count": chat.transfer_count,
        "on_hold_since": _iso(chat.on_hold_since),
        # The latest transfer's internal note, for whoever has the chat now (never customers).
        "transfer": (
            {
                "note": chat.transfer_note,
                "by": (
                    {"id": chat.transferred_by.pk, "name": staff_display_name(chat.transferred_by)}
                    if chat.transferred_by
                    else None
                ),
                "at": _iso(chat.transferred_at),
            }
            if chat.transferred_at
            else None
        ),
    }


def chats_frame(chat_frames: list[dict[str, Any]], *, server_time: datetime) -> dict[str, Any]:
    return {"type": "chats", "chats": chat_frames, "server_time": _iso(server_time)}


def typing_frame(*, chat_id: int, kind: str, name: str | None) -> dict[str, Any]:
    return {"type": "typing", "chat": chat_id, "kind": kind, "name": name}


def resumed_frame(*, chat_id: int, last_seq: int | None, more: bool) -> dict[str, Any]:
    return {"type": "resumed", "chat": chat_id, "last_seq": last_seq, "more": more}


def error_frame(
    *, code: str, detail: str, chat: int | None = None, client_msg_id: str | None = None
) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if chat is not None:
        frame["chat"] = chat
    if client_msg_id:
        frame["client_msg_id"] = client_msg_id
    return frame


def pong_frame() -> dict[str, Any]:
    return {"type": "pong"}


def note_frame(note: Any) -> dict[str, Any]:
    """An internal note: staff only, never published to a customer group."""
    return {
        "type": "note",
        "chat": note.chat_id,
        "id": note.pk,
        "author": {"id": note.author_id, "name": staff_display_name(note.author)},
        "body": note.body,
        "created_at": _iso(note.created_at),
    }
