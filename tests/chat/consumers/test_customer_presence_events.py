"""Customer sockets tell the chat (and feature apps) when they open, that they are alive, and
when they go: `Chat.customer_last_seen_at` is written and customer_connected /
customer_heartbeat / customer_disconnected are sent with the chat and the socket's channel."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from django.dispatch import Signal
from django.utils import timezone

from chat import events
from chat.models import Chat
from tests.chat.consumers.wsutil import TIMEOUT, db, pong_next, refused_with
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db(transaction=True)

PRESENCE = {
    "connected": events.customer_connected,
    "heartbeat": events.customer_heartbeat,
    "disconnected": events.customer_disconnected,
}
BEAT = 0.05


@dataclass
class PresenceLog:
    """Signals in the order sent; receivers run in the consumer's worker thread."""

    loop: asyncio.AbstractEventLoop
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, name: str, kwargs: dict[str, Any]) -> None:
        self.sent.append((name, kwargs))
        self.loop.call_soon_threadsafe(self.changed.set)

    def of(self, name: str, channel_name: str | None = None) -> list[dict[str, Any]]:
        return [
            kwargs
            for sent_name, kwargs in self.sent
            if sent_name == name and channel_name in (None, kwargs["channel_name"])
        ]

    def names(self, channel_name: str) -> list[str]:
        return [name for name, kwargs in self.sent if kwargs["channel_name"] == channel_name]

    async def wait_for(self, done: Callable[[], bool]) -> None:
        """Until `done()` holds; a bounded wait, not a timing assertion."""

        async def until() -> None:
            while True:
                self.changed.clear()
                if done():
                    return
                await self.changed.wait()

        await asyncio.wait_for(until(), timeout=TIMEOUT)


@pytest.fixture
async def presence() -> AsyncIterator[PresenceLog]:
    log = PresenceLog(loop=asyncio.get_running_loop())
    receivers = []
    for name, signal in PRESENCE.items():

        def receiver(sender: Signal, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            log.record(_name, kwargs)

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield log
    for signal, receiver in receivers:
        signal.disconnect(receiver)


@pytest.fixture
def beat_fast(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = BEAT


@db
def last_seen(chat: Chat) -> datetime | None:
    return Chat.objects.get(pk=chat.pk).customer_last_seen_at


@db
def forget_seen(chat: Chat) -> None:
    Chat.objects.filter(pk=chat.pk).update(customer_last_seen_at=None)


async def test_an_open_customer_socket_records_the_customer_and_sends_connected(
    sockets, presence
) -> None:  # type: ignore[no-untyped-def]
    chat = await db(start_chat)()
    assert await last_seen(chat) is None  # started through the API, never connected
    before = timezone.now()

    comm, _ = await sockets.customer(chat)
    await presence.wait_for(lambda: bool(presence.of("connected")))

    (connected,) = presence.of("connected")
    assert set(connected) == {"chat_id", "channel_name"}
    assert connected["chat_id"] == chat.pk
    seen = await last_seen(chat)
    assert seen is not None and before <= seen <= timezone.now()
    await pong_next(comm)
    # The default interval is far longer than this test: nothing but the connection so far.
    assert presence.names(connected["channel_name"]) == ["connected"]


async def test_every_customer_tab_is_its_own_connection(sockets, presence) -> None:  # type: ignore[no-untyped-def]
    chat = await db(start_chat)()
    await sockets.customer(chat)
    await sockets.customer(chat)
    await presence.wait_for(lambda: len(presence.of("connected")) >= 2)

    first, second = presence.of("connected")
    assert first["chat_id"] == second["chat_id"] == chat.pk
    assert first["channel_name"] != second["channel_name"]


async def test_an_open_customer_socket_beats_and_keeps_the_customer_seen(
    sockets, presence, beat_fast
) -> None:  # type: ignore[no-untyped-def]
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    await presence.wait_for(lambda: bool(presence.of("connected")))
    (connected,) = presence.of("connected")
    channel = connected["channel_name"]
    await forget_seen(chat)

    await presence.wait_for(lambda: len(presence.of("heartbeat", channel)) >= 2)

    assert presence.of("heartbeat", channel)[:2] == [connected] * 2
    assert await last_seen(chat) is not None  # written again by a beat
    await pong_next(comm)  # the heartbeat runs beside the socket, which keeps answering


async def test_closing_the_customer_socket_sends_disconnected_and_stops_beating(
    sockets, presence, beat_fast
) -> None:  # type: ignore[no-untyped-def]
    chat = await db(start_chat)()
    closing, _ = await sockets.customer(chat)
    await presence.wait_for(lambda: bool(presence.of("connected")))
    (gone,) = presence.of("connected")
    await sockets.customer(chat)  # another tab beating on the same interval: the clock
    await presence.wait_for(lambda: len(presence.of("connected")) >= 2)
    await forget_seen(chat)

    await closing.disconnect(timeout=TIMEOUT)
    await presence.wait_for(lambda: bool(presence.of("disconnected")))
    assert presence.of("disconnected") == [gone]
    assert await last_seen(chat) is not None
    seen = len(presence.sent)
    await presence.wait_for(
        lambda: [name for name, _ in presence.sent[seen:]].count("heartbeat") >= 3
    )

    names = presence.names(gone["channel_name"])
    assert names[-1] == "disconnected" and names.count("disconnected") == 1


async def test_a_refused_customer_socket_sends_nothing(sockets, presence) -> None:  # type: ignore[no-untyped-def]
    refused = sockets.communicator("/ws/chat/1.forged:token/")
    await refused_with(refused, "invalid_token", 4001)
    await refused.disconnect(timeout=TIMEOUT)

    chat = await db(start_chat)()  # a real socket as the clock
    await sockets.customer(chat)
    await presence.wait_for(lambda: bool(presence.of("connected")))

    assert {kwargs["chat_id"] for _, kwargs in presence.sent} == {chat.pk}
    assert [name for name, _ in presence.sent] == ["connected"]
