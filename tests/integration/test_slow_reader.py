"""A socket that stops reading is closed by the server, without holding up anyone else.

Its client stops reading (a raw TCP socket with a tiny receive buffer, after the handshake)
while its agent keeps writing to it: the server's buffers fill, it never answers a ping, and
daphne aborts it PING_INTERVAL + PING_TIMEOUT after its last pong (helpdesk.server; under 60 s
with the production flags, shortened here). Another chat of the same agent goes on meanwhile.
"""

import asyncio
import base64
import os
import socket
import time
from collections.abc import Callable

import pytest

from helpdesk import server as helpdesk_server
from tests.conftest import LiveServer
from tests.factories import AgentFactory
from tests.helpers import start_chat, token_for
from tests.integration.conftest import WsClient, session_cookie_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PING_INTERVAL, PING_TIMEOUT = 1, 2
# Messages written to the stalled customer: ~2.4 MB, more than loopback's socket buffers hold.
FLOOD = 600
BODY = "x" * 4000


def stalled_socket(server: LiveServer, path: str) -> socket.socket:
    """A websocket opened by hand, which reads its handshake answer and then nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {server.url}\r\n\r\n"
        ).encode()
    )
    answer = b""
    while not answer.endswith(b"\r\n\r\n"):
        answer += sock.recv(1)  # one byte at a time: no frame is read past the headers
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closed the socket (reads reach its end, or a reset) within `within`
    seconds of reading what it had buffered."""
    deadline = time.monotonic() + within
    sock.settimeout(1)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 20):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            continue
    return False


def test_production_flags_close_a_stalled_socket_within_a_minute() -> None:
    assert helpdesk_server.PING_INTERVAL_SECONDS + helpdesk_server.PING_TIMEOUT_SECONDS < 60


def test_a_socket_that_stops_reading_is_closed_and_the_others_go_on(
    live_server_factory: Callable[..., LiveServer], live_env: dict[str, str]
) -> None:
    agent = AgentFactory()
    stalled_chat, healthy_chat = start_chat(), start_chat(name="Bea")
    server = live_server_factory(
        env={
            **live_env,
            # The agent writes the flood as fast as it can.
            "HELPDESK_WS_RATE_PER_SECOND": "10000",
            "HELPDESK_WS_RATE_BURST": "10000",
        },
        flags={"--ping-interval": str(PING_INTERVAL), "--ping-timeout": str(PING_TIMEOUT)},
    )
    stalled = stalled_socket(server, f"/ws/chat/{token_for(stalled_chat)}/")
    session = session_cookie_for(agent)

    async def scenario() -> None:
        healthy = await WsClient.connect(
            f"{server.ws_url}/ws/chat/{token_for(healthy_chat)}/", name="healthy customer"
        )
        await healthy.wait_type("chat")
        console = await WsClient.connect(
            f"{server.ws_url}/ws/console/",
            origin=server.url,
            session=session,
            name="console",
        )
        await console.wait_type("chats")
        for chat in (stalled_chat, healthy_chat):
            await console.send(type="take", chat=chat.pk)
            await console.wait_type("chat", id=chat.pk, status="active")
        for n in range(FLOOD):
            await console.send(
                type="message", chat=stalled_chat.pk, body=BODY, client_msg_id=f"s-{n}"
            )
            if n % 30 == 0:
                await console.send(
                    type="message", chat=healthy_chat.pk, body=f"n{n}", client_msg_id=f"h-{n}"
                )
        await console.wait_type("ack", client_msg_id=f"s-{FLOOD - 1}")
        # The healthy customer got every message meant for it, each once.
        for n in range(0, FLOOD, 30):
            await healthy.wait_type("message", body=f"n{n}")
        bodies = [f["body"] for f in healthy.frames if f["type"] == "message"]
        assert len(bodies) == len(set(bodies))
        assert not healthy.closed.is_set() and not console.closed.is_set()
        await healthy.close()
        await console.close()

    asyncio.run(scenario())
    # Generous: a bound on waiting, not a measure of speed.
    assert closed_by_server(stalled, within=PING_INTERVAL + PING_TIMEOUT + 20), (
        "the stalled socket is still open"
    )
    stalled.close()
