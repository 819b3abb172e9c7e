"""Transcripts' `rating.received` webhook (docs/webhooks.md): a customer rated a chat, or
changed their rating within the edit window (`rating.updated` is then true).

Connected on import (transcripts/apps.py imports this module in ready()); like chat's receivers
it never raises.
"""

from typing import Any

from chat.webhook_receivers import chat_data, emit_safely
from helpdesk import webhooks
from transcripts import events
from transcripts.models import Rating


def rating_data(rating: Rating, *, updated: bool) -> dict[str, Any]:
    return {
        "id": rating.pk,
        "score": rating.score,
        "comment": rating.comment,
        "updated": updated,
        "created_at": webhooks.iso(rating.created_at),
        "updated_at": webhooks.iso(rating.updated_at),
    }


def on_rating_received(
    sender: Any, *, chat_id: int, rating_id: int, updated: bool = False, **kwargs: Any
) -> None:
    def build() -> dict[str, Any]:
        rating = Rating.objects.select_related("chat__topic", "chat__customer", "chat__agent").get(
            pk=rating_id
        )
        return {"chat": chat_data(rating.chat), "rating": rating_data(rating, updated=updated)}

    emit_safely("rating.received", build)


events.rating_received.connect(on_rating_received, dispatch_uid="transcripts.webhooks.rating")
