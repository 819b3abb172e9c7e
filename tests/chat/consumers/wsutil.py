"""Open websockets against the real ASGI application, and read frames without sleeping."""

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chat import events, services
from chat.models import Chat, Message
from helpdesk.asgi import application
from tests.helpers import token_for

OWN_ORIGIN = "http://127.0.0.1:8000"
TIMEOUT = 3.0

db = database_sync_to_async


class Sockets:
    """Opens communicators and closes every one of them at the end of the test."""

    def __init__(self) -> None:
        self._open: list[WebsocketCommunicator] = []

    def communicator(
        self, path: str, *, origin: str | None = None, user: Any = None, cookie: str = ""
    ) -> WebsocketCommunicator:
        headers = []
        if origin is not None:
            headers.append((b"origin", origin.encode("latin1")))
        if cookie:
            headers.append((b"cookie", cookie.encode("latin1")))
        comm = WebsocketCommunicator(application, path, headers=headers)
        if user is not None:
            comm.scope["user"] = user
        self._open.append(comm)
        return comm

    async def customer(
        self, chat: Chat | None = None, *, token: str = "", origin: str | None = None
    ) -> tuple[WebsocketCommunicator, dict[str, Any]]:
        """A connected customer socket and the `chat` frame it gets first."""
        # Frames the test's setup published (handed to this loop) go out before it connects.
        await events.sends_settled()
        comm = self.communicator(f"/ws/chat/{token or token_for(chat)}/", origin=origin)
        connected, _ = await comm.connect(timeout=TIMEOUT)
        assert connected
        first = await comm.receive_json_from(timeout=TIMEOUT)
        assert first["type"] == "chat", first
        return comm, first

    async def console(
        self, user: Any = None, *, origin: str | None = OWN_ORIGIN, cookie: str = ""
    ) -> tuple[WebsocketCommunicator, dict[str, Any]]:
        """A connected console socket and the `chats` snapshot it gets first."""
        await events.sends_settled()
        comm = self.communicator("/ws/console/", origin=origin, user=user, cookie=cookie)
        connected, _ = await comm.connect(timeout=TIMEOUT)
        assert connected
        snapshot = await comm.receive_json_from(timeout=TIMEOUT)
        assert snapshot["type"] == "chats", snapshot
        return comm, snapshot

    async def close_all(self) -> None:
        for comm in self._open:
            # Already closed by the server, or cancelled by a timeout in a failed test.
            with contextlib.suppress(Exception):
                await comm.disconnect(timeout=TIMEOUT)


async def receive(comm: WebsocketCommunicator) -> dict[str, Any]:
    return await comm.receive_json_from(timeout=TIMEOUT)


async def frames_until(
    comm: WebsocketCommunicator, stop: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every frame up to and including the first one for which `stop` is true."""
    frames = []
    while True:
        frame = await receive(comm)
        frames.append(frame)
        if stop(frame):
            return frames


async def receive_type(comm: WebsocketCommunicator, frame_type: str) -> dict[str, Any]:
    """The next frame of this type; frames of other types before it are skipped."""
    return (await frames_until(comm, lambda f: f["type"] == frame_type))[-1]


async def send_raw(comm: WebsocketCommunicator, text: str) -> None:
    # send_to() refuses an empty string; a client can send one.
    await comm.send_input({"type": "websocket.receive", "text": text})


async def round_trip(comm: WebsocketCommunicator, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a frame and return the next frame the server sends back."""
    await comm.send_json_to(frame)
    return await receive(comm)


async def pong_next(comm: WebsocketCommunicator) -> None:
    """Everything the server meant to send directly before now has been sent: a ping is
    answered in order, so the next frame must be the pong."""
    await comm.send_json_to({"type": "ping"})
    assert await receive(comm) == {"type": "pong"}


async def expect_close(comm: WebsocketCommunicator, code: int) -> None:
    """The next thing the server does is close the socket with `code`."""
    output = await comm.receive_output(timeout=TIMEOUT)
    assert output == {"type": "websocket.close", "code": code}, output


async def refused_with(comm: WebsocketCommunicator, error_code: str, close_code: int) -> None:
    """Accepted only to say why (an error frame), then closed with `close_code`."""
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected
    frame = await receive(comm)
    assert frame["type"] == "error" and frame["code"] == error_code, frame
    await expect_close(comm, close_code)


async def handshake_refused(comm: WebsocketCommunicator) -> None:
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert not connected


@db
def bodies(chat: Chat) -> list[str]:
    return list(
        Message.objects.filter(chat_id=chat.pk).order_by("seq").values_list("body", flat=True)
    )


@db
def message_count(chat: Chat | None = None) -> int:
    qs = Message.objects.all() if chat is None else Message.objects.filter(chat_id=chat.pk)
    return qs.count()


@db
def reload(chat: Chat) -> Chat:
    return Chat.objects.select_related("agent").get(pk=chat.pk)


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame)


class HeldMessages:
    """Patches `services.messages_post` (the sockets' message writes): a batch carrying the
    message `client_msg_id` waits in its database thread until `release()`."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, *, client_msg_id: str = "held", hold: float = 10
    ) -> None:
        self.entered, self.released = threading.Event(), threading.Event()
        real = services.messages_post

        def held(posts: list[services.MessagePost]) -> Any:
            if any(post.client_msg_id == client_msg_id for post in posts):
                self.entered.set()
                self.released.wait(hold)
            return real(posts)

        monkeypatch.setattr(services, "messages_post", held)

    async def wait_entered(self, timeout: float = 5) -> bool:
        return await asyncio.to_thread(self.entered.wait, timeout)

    def release(self) -> None:
        self.released.set()


def messages_post_failing_once(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The sockets' first message write raises `error`; the next ones store."""
    real = services.messages_post
    calls: list[int] = []

    def failing_once(posts: list[services.MessagePost]) -> Any:
        calls.append(len(posts))
        if len(calls) == 1:
            raise error
        return real(posts)

    monkeypatch.setattr(services, "messages_post", failing_once)
