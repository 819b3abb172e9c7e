"""Flood control: past the burst a socket gets `rate_limited`; a client that keeps going is
closed with 4008. The rate is 0 per second here, so no token ever refills: no timing involved."""

import json

import pytest

from chat.protocol import MAX_FRAME_BYTES
from tests.chat.consumers.wsutil import (
    db,
    expect_close,
    message_count,
    receive,
    receive_type,
    send_raw,
)
from tests.factories import AgentFactory
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db(transaction=True)

BURST = 3
ABUSE = 3


@pytest.fixture(autouse=True)
def _tight_limits(settings) -> None:
    settings.HELPDESK_WS_RATE_PER_SECOND = 0
    settings.HELPDESK_WS_RATE_BURST = BURST
    settings.HELPDESK_WS_ABUSE_REJECTIONS = ABUSE


def message(n: int) -> dict:
    return {"type": "message", "body": f"m{n}", "client_msg_id": f"c-{n}"}


async def test_past_the_burst_frames_are_rate_limited_then_the_socket_is_closed(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)

    for n in range(BURST):
        await comm.send_json_to(message(n))
        assert (await receive_type(comm, "ack"))["client_msg_id"] == f"c-{n}"

    for n in range(BURST, BURST + ABUSE - 1):
        await comm.send_json_to(message(n))
        error = await receive(comm)
        while error["type"] == "message":  # echoes of the accepted messages
            error = await receive(comm)
        assert (error["type"], error["code"]) == ("error", "rate_limited")

    await comm.send_json_to(message(99))
    output = await comm.receive_output(timeout=3)
    while output["type"] == "websocket.send" and json.loads(output["text"])["type"] == "message":
        output = await comm.receive_output(timeout=3)  # a late echo of an accepted message
    assert output == {"type": "websocket.close", "code": 4008}

    # Only the messages within the burst were stored.
    assert await message_count(chat) == 2 + BURST


async def test_junk_frames_count_against_the_limit_too(sockets) -> None:
    comm, _ = await sockets.console(await db(AgentFactory)())
    junk = [
        lambda: send_raw(comm, "not json"),
        lambda: comm.send_to(bytes_data=b"\x00\x01"),
        lambda: send_raw(comm, "x" * (MAX_FRAME_BYTES + 1)),
    ]
    for send in junk:  # the burst: each answered with its own error
        await send()
        assert (await receive(comm))["code"] in {"invalid_json", "invalid_frame", "frame_too_large"}
    for send in junk[: ABUSE - 1]:
        await send()
        assert (await receive(comm))["code"] == "rate_limited"
    await junk[-1]()
    await expect_close(comm, 4008)


async def test_each_socket_has_its_own_budget(sockets) -> None:
    chat = await db(start_chat)()
    first, _ = await sockets.customer(chat)
    second, _ = await sockets.customer(chat)
    for _ in range(BURST):
        await first.send_json_to({"type": "ping"})
        assert await receive(first) == {"type": "pong"}
    await first.send_json_to({"type": "ping"})
    assert (await receive(first))["code"] == "rate_limited"
    await second.send_json_to({"type": "ping"})
    assert await receive(second) == {"type": "pong"}
