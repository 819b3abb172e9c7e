"""Routing's `chat.transferred` webhook (docs/webhooks.md): a completed transfer, whether an
accepted transfer or escalation to a colleague or a transfer to a topic's queue.

The transfer's note is internal (staff only) and is never sent. Connected on import
(routing/apps.py imports this module in ready()); like chat's receivers it never raises.
"""

from typing import Any

from chat.webhook_receivers import chat_data, emit_safely
from helpdesk import webhooks
from routing import events
from routing.models import Transfer


def transfer_data(transfer: Transfer) -> dict[str, Any]:
    return {
        "id": transfer.pk,
        "kind": transfer.kind,
        "from_agent": webhooks.user_data(transfer.from_agent),
        "to_agent": webhooks.user_data(transfer.to_agent),
        "to_topic": webhooks.topic_data(transfer.to_topic) if transfer.to_topic else None,
        "requested_by": webhooks.user_data(transfer.requested_by),
        "created_at": webhooks.iso(transfer.created_at),
        "completed_at": webhooks.iso(transfer.decided_at),
    }


def on_chat_transferred(sender: Any, *, chat_id: int, transfer_id: int, **kwargs: Any) -> None:
    def build() -> dict[str, Any]:
        transfer = Transfer.objects.select_related(
            "chat__topic",
            "chat__customer",
            "chat__agent",
            "from_agent",
            "to_agent",
            "to_topic",
            "requested_by",
        ).get(pk=transfer_id)
        return {"chat": chat_data(transfer.chat), "transfer": transfer_data(transfer)}

    emit_safely("chat.transferred", build)


events.chat_transferred.connect(on_chat_transferred, dispatch_uid="routing.webhooks.transferred")
