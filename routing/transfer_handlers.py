"""The console's transfer frames (registered for agents only in apps.py; a customer sending one
gets `unknown_type`). Each validates its fields, makes one service call and answers the
sending socket; the services publish to the other consoles concerned after commit."""

from typing import Any

from chat.services import Participant
from routing import transfer_protocol, transfer_selectors, transfers
from routing.transfer_protocol import require_chat, transfer_id_field


def transfer_targets_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """`{"type": "transfer_targets", "chat": id}`: who and where the chat could go."""
    return [transfer_selectors.transfer_targets(chat_id=require_chat(chat_id), agent=actor.user)]


def transfer_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """`{"type": "transfer", "chat": id, "to": {...}, "note": "..."}` -> the `transfer`."""
    frame = transfer_protocol.parse_transfer(chat_id=chat_id, data=data)
    target = frame.target
    if target.kind == "agent":
        assert target.agent_id is not None  # noqa: S101  (the parser set it)
        transfer = transfers.transfer_to_agent(
            chat_id=frame.chat_id, sender=actor.user, to_agent_id=target.agent_id, note=frame.note
        )
    elif target.kind == "senior":
        transfer = transfers.transfer_escalate(
            chat_id=frame.chat_id, sender=actor.user, note=frame.note
        )
    else:
        transfer = transfers.transfer_to_topic(
            chat_id=frame.chat_id, sender=actor.user, topic_slug=target.topic_slug, note=frame.note
        )
    return [transfer_protocol.transfer_frame(transfer)]


def transfer_reply_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """`{"type": "transfer_reply", "transfer": id, "accept": bool, "reason"?: "..."}`."""
    frame = transfer_protocol.parse_transfer_reply(chat_id=chat_id, data=data)
    outcome = transfers.transfer_reply(
        transfer_id=frame.transfer_id,
        agent=actor.user,
        accept=frame.accept,
        reason=frame.reason,
        chat_id=frame.chat_id,
    )
    if outcome.error is not None:
        # Committed already (the request is closed and its sender told); now the receiver.
        raise outcome.error
    return [transfer_protocol.transfer_result_frame(outcome.transfer, by=actor.user)]


def transfer_cancel_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """`{"type": "transfer_cancel", "transfer": id}` from its sender."""
    transfer = transfers.transfer_cancel(
        transfer_id=transfer_id_field(data), agent=actor.user, chat_id=chat_id
    )
    return [transfer_protocol.transfer_result_frame(transfer, by=actor.user)]


def transfers_frame(
    *, actor: Participant, chat_id: int | None, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """`{"type": "transfers"}`: the agent's requests still open, after a (re)connection."""
    return [transfer_selectors.pending_transfers_frame(agent=actor.user)]
