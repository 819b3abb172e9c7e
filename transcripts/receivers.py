"""What transcripts does when chat's domain events fire (connected in apps.ready)."""

from typing import Any

from transcripts import services


def on_chat_closed(sender: Any, *, chat_id: int, **kwargs: Any) -> None:
    # chat_closed is sent after the close committed: the delivery row is written in its own
    # transaction and its task queued after that one commits.
    services.transcript_queue(chat_id=chat_id)
