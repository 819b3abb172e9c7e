"""/ws/supervise/: who may open it, the `live` snapshot on connect and after changes (coalesced),
and hostile frames."""

import asyncio
import time
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from routing.live_receivers import ring_on_commit
from tests.chat.consumers.wsutil import (
    OWN_ORIGIN,
    TIMEOUT,
    db,
    receive,
    refused_with,
    round_trip,
    send_raw,
)
from tests.factories import AgentFactory, SupervisorFactory, TopicFactory
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/supervise/"


async def supervise(sockets: Any, user: Any) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    comm = sockets.communicator(PATH, origin=OWN_ORIGIN, user=user)
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected
    return comm, await receive(comm)


async def frames_after(comm: WebsocketCommunicator, seconds: float) -> list[dict[str, Any]]:
    """Every frame the socket got in the next `seconds` (a pong marks the end: a receive
    timeout would cancel the application)."""
    await asyncio.sleep(seconds)
    return (await frames_until(comm, lambda frame: frame["type"] == "pong"))[:-1]


async def frames_until(comm: WebsocketCommunicator, stop: Any) -> list[dict[str, Any]]:
    await comm.send_json_to({"type": "ping"})
    frames = [await receive(comm)]
    while not stop(frames[-1]):
        frames.append(await receive(comm))
    return frames


async def test_a_supervisor_gets_the_snapshot_on_connect(sockets) -> None:
    topic = await db(TopicFactory)(name="Billing")
    _, snapshot = await supervise(sockets, await db(SupervisorFactory)())

    assert snapshot["type"] == "live"
    assert [t["name"] for t in snapshot["topics"]] == [topic.name]
    assert set(snapshot) == {"type", "server_time", "topics", "agents", "red_chats", "today"}


async def test_an_anonymous_visitor_is_refused_with_4001(sockets) -> None:
    await refused_with(sockets.communicator(PATH, origin=OWN_ORIGIN), "unauthenticated", 4001)


async def test_an_agent_who_is_not_a_supervisor_is_refused_with_4003(sockets) -> None:
    agent = await db(AgentFactory)()
    await refused_with(sockets.communicator(PATH, origin=OWN_ORIGIN, user=agent), "forbidden", 4003)


@pytest.mark.parametrize("origin", [None, "https://evil.example"])
async def test_a_foreign_or_missing_origin_is_refused_at_the_handshake(sockets, origin) -> None:
    comm = sockets.communicator(PATH, origin=origin, user=await db(SupervisorFactory)())
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert not connected


async def test_a_queued_chat_brings_a_new_snapshot_within_a_second(sockets) -> None:
    topic = await db(TopicFactory)(name="Billing")
    comm, first = await supervise(sockets, await db(SupervisorFactory)())
    assert first["topics"][0]["queued"] == 0

    started = time.monotonic()
    await db(start_chat)(topic=topic)
    frame = await receive(comm)

    assert time.monotonic() - started < 1.0
    assert frame["type"] == "live" and frame["topics"][0]["queued"] == 1


async def test_a_burst_of_changes_is_coalesced(sockets) -> None:
    comm, _ = await supervise(sockets, await db(SupervisorFactory)())

    for _ in range(20):
        await db(ring_on_commit)()
    frames = await frames_after(comm, 1.5)

    assert 1 <= len(frames) <= 3, [f["type"] for f in frames]
    assert {f["type"] for f in frames} == {"live"}


async def test_changes_spread_in_time_each_show_within_a_second(sockets) -> None:
    comm, _ = await supervise(sockets, await db(SupervisorFactory)())

    for _ in range(3):
        started = time.monotonic()
        await db(ring_on_commit)()
        assert (await receive(comm))["type"] == "live"
        assert time.monotonic() - started < 1.0
        await asyncio.sleep(0.1)


async def test_ping_is_answered_with_pong(sockets) -> None:
    comm, _ = await supervise(sockets, await db(SupervisorFactory)())
    assert await round_trip(comm, {"type": "ping"}) == {"type": "pong"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"type": "watch", "chat": 1}', "unknown_type"),
        ('{"type": "message", "body": "hi"}', "unknown_type"),
        ('{"type": "PING"}', "unknown_type"),
        ('{"type": "__proto__"}', "unknown_type"),
        ("not json", "invalid_json"),
        ("", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": 7}', "invalid_frame"),
        ('{"type": null}', "invalid_frame"),
        ("{}", "invalid_frame"),
        ("[" * 100_000, "frame_too_large"),
        ('{"type": "' + "x" * 70_000 + '"}', "frame_too_large"),
    ],
    ids=lambda v: v[:20] if isinstance(v, str) else v,
)
async def test_hostile_frames_get_an_error_and_the_socket_stays(sockets, text, code) -> None:
    comm, _ = await supervise(sockets, await db(SupervisorFactory)())

    await send_raw(comm, text)
    error = await receive(comm)

    assert error["type"] == "error" and error["code"] == code, error
    assert await round_trip(comm, {"type": "ping"}) == {"type": "pong"}


async def test_a_binary_frame_is_an_invalid_frame(sockets) -> None:
    comm, _ = await supervise(sockets, await db(SupervisorFactory)())

    await comm.send_to(bytes_data=b"\x00\x01")

    assert (await receive(comm))["code"] == "invalid_frame"


async def test_a_flood_is_rate_limited_then_closed(sockets, settings) -> None:
    settings.HELPDESK_WS_RATE_PER_SECOND = 1
    settings.HELPDESK_WS_RATE_BURST = 2
    settings.HELPDESK_WS_ABUSE_REJECTIONS = 3
    comm, _ = await supervise(sockets, await db(SupervisorFactory)())

    for _ in range(6):
        await comm.send_json_to({"type": "ping"})
    outputs = [await comm.receive_output(timeout=TIMEOUT) for _ in range(5)]

    assert outputs[-1] == {"type": "websocket.close", "code": 4008}, outputs
