"""Heartbeats on a live daphne: `ping` frames are answered with `pong`, and a peer that stops
answering protocol-level pings is dropped by the server.

These need no external service (the live server runs on whatever database the suite uses), so
they are not marked `integration` and also run in CI's first pass on SQLite.

helpdesk/server.py pings every 20 s and drops a peer after 30 s more; waiting that long would
cost a minute, so the dead-peer test starts daphne with the production flags except those two
timers (1 s and 2 s): same mechanism, shorter clock.
"""

import asyncio
import base64
import os
import time
from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.factories import AgentFactory
from tests.helpers import start_chat, token_for
from tests.integration.conftest import WsClient, server_log_problems, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

OPCODE_TEXT, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x1, 0x8, 0x9, 0xA


def test_ping_frames_are_answered_with_pong(
    live_server_factory: Callable[..., LiveServer], live_env: dict[str, str]
) -> None:
    chat = start_chat()
    session = session_cookie_for(AgentFactory())
    server = live_server_factory(env=live_env)

    async def scenario() -> None:
        customer = await WsClient.connect(f"{server.ws_url}/ws/chat/{token_for(chat)}/")
        assert (await customer.wait_type("chat"))["id"] == chat.pk
        console = await WsClient.connect(
            f"{server.ws_url}/ws/console/", origin=server.url, session=session
        )
        await console.wait_type("chats")
        for client in (customer, console):
            for _ in range(3):
                start = len(client.frames)
                await client.send(type="ping")
                await client.wait_for(lambda f: f["type"] == "pong", start=start, what="pong")
            await asyncio.sleep(0.3)
            assert [f["type"] for f in client.frames[1:]] == ["pong"] * 3, client.frames
            assert not client.closed.is_set()
        await customer.close()
        await console.close()

    asyncio.run(scenario())
    assert not server_log_problems(server)


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One server-to-client websocket frame (servers never mask)."""
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    if second & 0x80:
        await reader.readexactly(4)
    return first & 0x0F, await reader.readexactly(length)


async def open_mute_socket(
    server: LiveServer, path: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket that completes the handshake, then never sends a byte again: no pongs."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    # The writer is returned only to be kept alive: a collected StreamWriter closes the socket.
    return reader, writer


def test_server_drops_a_peer_that_stops_answering_protocol_pings(
    short_ping_server_factory: Callable[..., LiveServer], live_env: dict[str, str]
) -> None:
    chat = start_chat()
    interval, timeout = 1, 2
    server = short_ping_server_factory(ping_interval=interval, ping_timeout=timeout, env=live_env)
    path = f"/ws/chat/{token_for(chat)}/"

    async def scenario() -> tuple[list[int], float]:
        # A healthy client: its library answers the server's pings (it never pings itself).
        alive = await WsClient.connect(f"{server.ws_url}{path}", name="alive")
        await alive.wait_type("chat")
        mute, _writer = await open_mute_socket(server, path)
        started = time.monotonic()
        opcodes: list[int] = []
        try:
            async with asyncio.timeout(30):
                while True:
                    opcode, _ = await read_frame(mute)
                    opcodes.append(opcode)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            dropped_after = time.monotonic() - started
        except TimeoutError:
            pytest.fail(f"the server never dropped the mute peer; it sent opcodes {opcodes}")

        # Meanwhile the healthy client went through the same pings and is still served.
        await asyncio.sleep(interval + timeout)
        assert not alive.closed.is_set(), alive.ws.close_code
        await alive.send(type="ping")
        await alive.wait_type("pong")
        await alive.close()
        return opcodes, dropped_after

    opcodes, dropped_after = asyncio.run(scenario())
    assert opcodes[0] == OPCODE_TEXT  # the `chat` frame sent on connect
    assert OPCODE_PING in opcodes, opcodes  # the server asked...
    # ...and, with no pong, dropped the connection (no closing handshake with a dead peer).
    print(
        f"\nmute peer dropped after {dropped_after:.1f} s (ping {interval} s + timeout {timeout} s)"
    )
    assert not server_log_problems(server)
