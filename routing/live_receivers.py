"""The live page's doorbell: every change it shows rings the `live` group after commit.

The event carries nothing: each supervise socket answers it by recomputing the snapshot,
coalesced (routing.live_consumer), so the doorbell may ring as often as changes happen. It is
a channel-layer event of its own (`live.changed`), not a client frame: no socket forwards it.
"""

from typing import Any

from django.db import transaction

from chat import events as chat_events

LIVE_GROUP = "live"
DOORBELL_EVENT = "live.changed"
# A ring announces every change committed before it is sent.
RING_COALESCE_SECONDS = 0.1


def ring_on_commit() -> None:
    """Ring after the current transaction commits (at once outside one)."""
    transaction.on_commit(_ring_now)


def _ring_now() -> None:
    # The change is committed; if the ring fails, the pages catch up at the next ring or their
    # own refresh. The pages coalesce their snapshots anyway, so a burst of changes (a message
    # each, at full load) rings once.
    chat_events.group_send_soon(
        [(LIVE_GROUP, {"type": DOORBELL_EVENT})],
        what="the live page's doorbell",
        coalesce=LIVE_GROUP,
        delay=RING_COALESCE_SECONDS,
    )


def on_live_change(**kwargs: Any) -> None:
    """Receiver of every chat and agent event the live page shows (connected in apps.py)."""
    ring_on_commit()
