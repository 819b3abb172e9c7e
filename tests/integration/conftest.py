"""Helpers for the integration tests: a small websocket client for live daphne processes,
agent session cookies, per-test Redis names for live servers (`live_env`), and a daphne with
short protocol-ping timers for the heartbeat test.
"""

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import websockets
from django.conf import settings
from django.test import Client
from websockets.asyncio.client import ClientConnection

from tests.conftest import LiveServer

# A bound for waiting on the network, never an assertion on speed.
WAIT_SECONDS = 20.0

Frame = dict[str, Any]
Predicate = Callable[[Frame], bool]


def session_cookie_for(agent: Any) -> str:
    """A committed Django session for `agent`, as the value of the `sessionid` cookie."""
    client = Client()
    client.force_login(agent)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class WsClient:
    """One websocket to a live server; every received frame is kept in `frames`, in order."""

    def __init__(self, ws: ClientConnection, name: str) -> None:
        self.ws = ws
        self.name = name
        self.frames: list[Frame] = []
        self.closed = asyncio.Event()
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        origin: str | None = None,
        session: str | None = None,
        name: str = "",
        open_timeout: float = WAIT_SECONDS,
    ) -> "WsClient":
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"} if session else None
        ws = await websockets.connect(
            url,
            origin=origin,  # type: ignore[arg-type]
            additional_headers=headers,
            compression=None,
            proxy=None,
            # The client never pings on its own (it still answers the server's pings).
            ping_interval=None,
            open_timeout=open_timeout,
            close_timeout=2,
        )
        return cls(ws, name or url)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                async with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    def _find(self, predicate: Predicate, start: int) -> int | None:
        return next((i for i in range(start, len(self.frames)) if predicate(self.frames[i])), None)

    async def wait_index(
        self,
        predicate: Predicate,
        *,
        start: int = 0,
        timeout: float = WAIT_SECONDS,
        what: str = "",
    ) -> int:
        """The index in `frames` of the first frame from `start` on (received so far or later)
        that matches `predicate`."""

        async def wait() -> int:
            async with self._changed:
                while (index := self._find(predicate, start)) is None:
                    if self.closed.is_set():
                        raise AssertionError(
                            f"{self.name}: socket closed before {what or 'the frame'} arrived; "
                            f"last frames {self.frames[-5:]}"
                        )
                    await self._changed.wait()
                return index

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no {what or 'matching frame'} within {timeout} s; "
                f"last frames {self.frames[-5:]}"
            ) from None

    async def wait_for(
        self, predicate: Predicate, *, start: int = 0, timeout: float = WAIT_SECONDS, what: str = ""
    ) -> Frame:
        index = await self.wait_index(predicate, start=start, timeout=timeout, what=what)
        return self.frames[index]

    async def wait_type(self, frame_type: str, *, start: int = 0, **fields: Any) -> Frame:
        return await self.wait_for(
            lambda f: f["type"] == frame_type and all(f.get(k) == v for k, v in fields.items()),
            start=start,
            what=f"{frame_type} {fields}",
        )

    async def resume(self, *, after_seq: int, chat: int | None = None) -> tuple[list[Frame], Frame]:
        """Send `resume`; return the message frames of the replay, in order, and `resumed`."""
        start = len(self.frames)
        frame: Frame = {"type": "resume", "after_seq": after_seq}
        if chat is not None:
            frame["chat"] = chat
        await self.send(**frame)
        end = await self.wait_index(lambda f: f["type"] == "resumed", start=start, what="resumed")
        # Only this socket's replay: live frames of other chats may interleave.
        replay = [
            f
            for f in self.frames[start:end]
            if f["type"] == "message" and (chat is None or f["chat"] == chat)
        ]
        return replay, self.frames[end]

    def of_type(self, frame_type: str) -> list[Frame]:
        return [f for f in self.frames if f["type"] == frame_type]

    def message_seq_counts(self, chat_id: int | None = None) -> Counter[int]:
        return Counter(
            f["seq"] for f in self.of_type("message") if chat_id is None or f["chat"] == chat_id
        )

    async def stop_reading(self) -> None:
        """From now on the client reads nothing more (frames the server sends are lost)."""
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (a dead peer or network)."""
        self._reader.cancel()
        self.ws.transport.abort()

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def highest_contiguous(seqs: set[int] | Counter[int], start: int = 0) -> int:
    """The highest seq n such that every seq in start+1..n was seen."""
    n = start
    while n + 1 in seqs:
        n += 1
    return n


def server_log_problems(server: LiveServer) -> list[str]:
    text = server.log_path.read_text(errors="replace")
    return [
        line
        for line in text.splitlines()
        if "Traceback" in line or "MaxConnectionsError" in line or " ERROR " in line
    ]


@pytest.fixture
def short_ping_server_factory(
    live_server_factory: Callable[..., LiveServer],
) -> Callable[..., LiveServer]:
    """A daphne started with the production flags (helpdesk.server) except the protocol-ping
    timers, shortened so that a dead peer is dropped in seconds instead of 20 + 30 s."""

    def start(
        *, ping_interval: int, ping_timeout: int, env: dict[str, str] | None = None
    ) -> LiveServer:
        flags = {"--ping-interval": str(ping_interval), "--ping-timeout": str(ping_timeout)}
        return live_server_factory(env=env, flags=flags)

    return start


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """Factories hash a password per user; PBKDF2 would cost ~0.3 s per agent."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def live_env() -> dict[str, str]:
    """`env=` for live_server_factory: this test's own Redis prefix, so runs sharing one Redis
    never hear each other's chat #1. Pass the same dict to every server of a test."""
    return {"HELPDESK_REDIS_PREFIX": f"it{uuid.uuid4().hex[:10]}"}
