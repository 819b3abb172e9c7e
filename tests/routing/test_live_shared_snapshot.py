"""The live sockets of one process share their snapshots: however many supervisors watch, a
refresh costs the queries of one snapshot, and sharing loses no change."""

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing import live_consumer
from routing.live_receivers import DOORBELL_EVENT, LIVE_GROUP, ring_on_commit
from tests.chat.consumers.wsutil import db, receive
from tests.factories import SupervisorFactory, TopicFactory
from tests.routing.test_live_consumer import frames_until, supervise

pytestmark = pytest.mark.django_db(transaction=True)


class Snapshots:
    """Wraps the consumer's live_snapshot: counts the queries of each computation, and can
    hold one computation after it read the database until released."""

    def __init__(self, original: Callable[..., dict[str, Any]]) -> None:
        self.original = original
        self.costs: list[int] = []
        self.hold_next = False
        self.held = threading.Event()
        self.release = threading.Event()

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        with CaptureQueriesContext(connection) as queries:
            snapshot = self.original(**kwargs)
        self.costs.append(len(queries))
        if self.hold_next:
            self.hold_next = False
            self.held.set()
            assert self.release.wait(10), "never released"
        return snapshot


@pytest.fixture
def snapshots(monkeypatch: pytest.MonkeyPatch) -> Snapshots:
    counted = Snapshots(live_consumer.live_snapshot)
    monkeypatch.setattr(live_consumer, "live_snapshot", counted)
    return counted


async def test_two_sockets_cost_the_queries_of_one(sockets: Any, snapshots: Snapshots) -> None:
    await db(TopicFactory)(name="Billing")
    lead_a, lead_b = await db(SupervisorFactory)(), await db(SupervisorFactory)()
    a, _ = await supervise(sockets, lead_a)

    # One socket: a change costs one snapshot.
    snapshots.costs.clear()
    await db(ring_on_commit)()
    assert (await receive(a))["type"] == "live"
    assert len(snapshots.costs) == 1
    one_socket = sum(snapshots.costs)
    assert one_socket > 0

    # A second supervisor connects: only they get a snapshot (the first socket gets nothing).
    b, _ = await supervise(sockets, lead_b)
    assert [f["type"] for f in await frames_until(a, lambda f: f["type"] == "pong")] == ["pong"]

    # Two sockets: a change costs the same queries, and both get the same snapshot.
    snapshots.costs.clear()
    await db(ring_on_commit)()
    frame_a, frame_b = await receive(a), await receive(b)
    assert frame_a["type"] == "live"
    assert frame_a == frame_b
    assert sum(snapshots.costs) == one_socket


async def test_a_change_rung_during_a_shared_refresh_gets_the_next_one(
    sockets: Any, snapshots: Snapshots
) -> None:
    lead_a, lead_b = await db(SupervisorFactory)(), await db(SupervisorFactory)()
    a, _ = await supervise(sockets, lead_a)
    b, _ = await supervise(sockets, lead_b)
    layer = get_channel_layer()

    # A refresh reads the database, then is held before it is sent...
    snapshots.hold_next = True
    await layer.group_send(LIVE_GROUP, {"type": DOORBELL_EVENT})
    assert await asyncio.to_thread(snapshots.held.wait, 10)
    # ...while a topic is added and a socket rings the hub. (Rung here, as a socket's handler
    # does: the consumers themselves handle a doorbell only once the database thread is free,
    # since every handler first closes old connections there.)
    await asyncio.to_thread(TopicFactory, name="Returns")
    live_consumer.live_hub().ring()
    snapshots.release.set()

    for comm in (a, b):
        stale, fresh = await receive(comm), await receive(comm)
        assert "Returns" not in [t["name"] for t in stale["topics"]]
        assert "Returns" in [t["name"] for t in fresh["topics"]]
