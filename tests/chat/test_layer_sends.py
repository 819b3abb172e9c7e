"""Channel-layer sends from services (chat.events.group_send_soon): in a server they are handed
to the event loop, in order and bounded, so the database thread never waits for them."""

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import events


@pytest.fixture(autouse=True)
def sends_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests watch `group_send`; with REDIS_URL set, the product's layer would send in
    batches instead (tests/integration/test_layer_send_batch.py)."""
    monkeypatch.setattr(get_channel_layer(), "group_send_batch", None, raising=False)


class HeldLayer:
    """Wraps the layer's group_send: sends wait until `release()`; `sent` keeps their order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.layer = get_channel_layer()
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.gate = asyncio.Event()
        self._send = self.layer.group_send
        monkeypatch.setattr(self.layer, "group_send", self.group_send)

    async def group_send(self, group: str, event: dict[str, Any]) -> None:
        await self.gate.wait()
        self.sent.append((group, event))
        await self._send(group, event)

    def release(self) -> None:
        self.gate.set()

    async def sent_count(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        async def enough() -> None:
            while len(self.sent) < count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(enough(), 5)
        return self.sent


def send(group: str, n: int, **kwargs: Any) -> None:
    events.group_send_soon([(group, {"type": "test.event", "n": n})], what="test", **kwargs)


async def test_the_database_thread_does_not_wait_and_the_sends_keep_their_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = HeldLayer(monkeypatch)

    def post_three() -> None:
        for n in range(3):
            send("g", n)

    # Returns while every send is still held: the thread did not wait for any of them.
    await asyncio.wait_for(database_sync_to_async(post_three)(), 5)
    assert held.sent == []

    held.release()
    sent = await held.sent_count(3)
    assert [event["n"] for _, event in sent] == [0, 1, 2]


async def test_past_the_bound_a_sender_waits_for_its_own_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "MAX_PENDING_SENDS", 1)
    held = HeldLayer(monkeypatch)
    await database_sync_to_async(send)("g", 0)

    second = asyncio.ensure_future(database_sync_to_async(send)("g", 1))
    await asyncio.sleep(0.2)
    assert not second.done(), "the second send should wait while the first is pending"

    held.release()
    await asyncio.wait_for(second, 5)
    assert [event["n"] for _, event in await held.sent_count(2)] == [0, 1]


async def test_coalesced_doorbells_in_a_burst_ring_once(monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldLayer(monkeypatch)
    held.release()

    def burst() -> None:
        for n in range(5):
            send("live", n, coalesce="live", delay=0.05)

    await database_sync_to_async(burst)()
    assert [event["n"] for _, event in await held.sent_count(1)] == [0]
    await asyncio.sleep(0.2)
    assert len(held.sent) == 1

    # Once rung, the next change rings again.
    await database_sync_to_async(send)("live", 5, coalesce="live", delay=0.05)
    assert [event["n"] for _, event in await held.sent_count(2)] == [0, 5]


async def test_a_failing_send_is_logged_and_the_next_ones_go_out(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    held = HeldLayer(monkeypatch)
    held.release()
    real = held.group_send

    async def flaky(group: str, event: dict[str, Any]) -> None:
        if event["n"] == 0:
            raise ConnectionError("redis went away")
        await real(group, event)

    monkeypatch.setattr(held.layer, "group_send", flaky)
    await database_sync_to_async(send)("g", 0)
    await database_sync_to_async(send)("g", 1)

    assert [event["n"] for _, event in await held.sent_count(1)] == [1]
    assert "could not send test to ['g']" in caplog.text


def test_outside_a_server_the_send_is_made_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """Celery workers and management commands have no serving loop: nothing is deferred."""
    sent: list[int] = []

    async def record(group: str, event: dict[str, Any]) -> None:
        sent.append(event["n"])

    monkeypatch.setattr(get_channel_layer(), "group_send", record)
    send("g", 7)
    assert sent == [7]


async def test_batches_leave_one_after_another_even_when_the_layer_yields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A chat frame for two consoles, then a transfer result for one of them: that console
    gets the chat frame first, though each send gives way to the loop (as Redis sends do)."""
    sent: list[tuple[str, int]] = []

    async def yielding(group: str, event: dict[str, Any]) -> None:
        await asyncio.sleep(0.01 if group == "agent.1" else 0)
        sent.append((group, event["n"]))

    monkeypatch.setattr(get_channel_layer(), "group_send", yielding)

    def chat_frame_then_result() -> None:
        events.group_send_soon([("agent.1", {"n": 1}), ("agent.2", {"n": 1})], what="chat frame")
        events.group_send_soon([("agent.2", {"n": 2})], what="transfer result")

    await database_sync_to_async(chat_frame_then_result)()

    async def all_sent() -> None:
        while len(sent) < 3:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(all_sent(), 5)
    assert sent == [("agent.1", 1), ("agent.2", 1), ("agent.2", 2)]
