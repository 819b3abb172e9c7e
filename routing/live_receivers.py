"""The live page's doorbell: every change it shows rings the `live` group after commit.

The event carries nothing: each supervise socket answers it by recomputing the snapshot,
coalesced (routing.live_consumer), so the doorbell may ring as often as changes happen. It is
a channel-layer event of its own (`live.changed`), not a client frame: no socket forwards it.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

LIVE_GROUP = "live"
DOORBELL_EVENT = "live.changed"


def ring_on_commit() -> None:
    """Ring after the current transaction commits (at once outside one)."""
    transaction.on_commit(_ring_now)


def _ring_now() -> None:
    try:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(LIVE_GROUP, {"type": DOORBELL_EVENT})
    except Exception:
        # The change is committed; the pages catch up at the next ring or their own refresh.
        logger.exception("could not ring the live page's doorbell")


def on_live_change(**kwargs: Any) -> None:
    """Receiver of every chat and agent event the live page shows (connected in apps.py)."""
    ring_on_commit()
