"""The answer bot's customer frames (registered with chat.dispatch in apps.py; an agent
sending them gets `unknown_type`). Wire format: docs/protocol.md, "Answer bot"."""

from typing import Any

from cannedresponses import answerbot
from chat.protocol import ProtocolError
from chat.services import Participant

# Sequence numbers are stored as 32-bit integers: a larger JSON number names no message, and
# must not reach the database as one (SQLite refuses integers past 64 bits outright).
MAX_SEQ = 2**31 - 1


def _chat(chat_id: int | None) -> int:
    if chat_id is None:  # pragma: no cover - the customer consumer always knows its chat
        raise ProtocolError("invalid_frame", "No chat.")
    return chat_id


def _flag(data: dict[str, Any], name: str, *, default: bool | None = None) -> bool:
    value = data.get(name, default)
    # Exactly true or false: not 1, "yes" or null.
    if not isinstance(value, bool):
        raise ProtocolError("invalid_frame", f"'{name}' must be true or false.")
    return value


def bot_status_frame(*, actor: Participant, chat_id: int | None, data: dict[str, Any]) -> list:
    """`{"type": "bot_status"}` -> the chat's `bot` frame (send it after every connection)."""
    return [answerbot.bot_frame(chat_id=_chat(chat_id))]


def bot_feedback_frame(*, actor: Participant, chat_id: int | None, data: dict[str, Any]) -> list:
    """`{"type": "bot_feedback", "message": <seq>, "helpful": true|false, "close"?: true}`
    -> the chat's `bot` frame."""
    chat = _chat(chat_id)
    seq = data.get("message")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        raise ProtocolError(
            "invalid_frame", "'message' must be the number (seq) of an automated answer."
        )
    helpful = _flag(data, "helpful")
    close = False if data.get("close") is None else _flag(data, "close")
    if close and not helpful:
        raise ProtocolError("invalid_frame", "'close' goes only with 'helpful': true.")
    return [
        answerbot.bot_feedback_record(chat_id=chat, message_seq=seq, helpful=helpful, close=close)
    ]


def human_frame(*, actor: Participant, chat_id: int | None, data: dict[str, Any]) -> list:
    """`{"type": "human"}`: the customer wants a person; the bot steps aside -> `bot` frame."""
    return [answerbot.bot_human_request(chat_id=_chat(chat_id))]
