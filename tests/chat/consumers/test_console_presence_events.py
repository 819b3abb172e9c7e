"""Console sockets tell presence (routing) when they open, that they are alive, and when they go."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.dispatch import Signal

from chat import events
from tests.chat.consumers.wsutil import (
    OWN_ORIGIN,
    TIMEOUT,
    db,
    pong_next,
    receive,
    refused_with,
)
from tests.factories import AgentFactory, SupervisorFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PRESENCE = {
    "connected": events.agent_connected,
    "heartbeat": events.agent_heartbeat,
    "disconnected": events.agent_disconnected,
}
BEAT = 0.05


@dataclass
class PresenceLog:
    """Presence signals in the order they were sent; receivers run in the consumers' worker
    thread, so they wake waiters on the test's loop thread-safely."""

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

    async def connected(self, count: int = 1) -> list[dict[str, Any]]:
        await self.wait_for(lambda: len(self.of("connected")) >= count)
        return self.of("connected")


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
def beat_fast(settings) -> None:
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = BEAT


async def reaches(comm, channel_name: str) -> None:
    """`channel_name` is this socket's own channel: a frame sent to it arrives here."""
    probe = {"type": "probe", "to": channel_name}
    await get_channel_layer().send(channel_name, {"type": events.FRAME_EVENT, "frame": probe})
    assert await receive(comm) == probe


# --- Connected -----------------------------------------------------------------------------------


async def test_an_open_console_sends_agent_connected_with_its_own_channel(
    sockets, presence
) -> None:
    agent = await db(AgentFactory)()
    console, _ = await sockets.console(agent)

    (connected,) = await presence.connected()

    assert set(connected) == {"agent_id", "channel_name"}
    assert connected["agent_id"] == agent.pk
    await reaches(console, connected["channel_name"])
    await pong_next(console)
    # The default interval is far longer than this test: nothing but the connection so far.
    assert presence.names(connected["channel_name"]) == ["connected"]


async def test_every_tab_is_its_own_connection(sockets, presence) -> None:
    agent, colleague = await db(AgentFactory)(), await db(AgentFactory)()
    tab1, _ = await sockets.console(agent)
    tab2, _ = await sockets.console(agent)
    other, _ = await sockets.console(colleague)

    first, second, third = await presence.connected(3)

    assert [c["agent_id"] for c in (first, second, third)] == [agent.pk, agent.pk, colleague.pk]
    assert len({c["channel_name"] for c in (first, second, third)}) == 3
    for comm, connected in ((tab1, first), (tab2, second), (other, third)):
        await reaches(comm, connected["channel_name"])
    for comm in (tab1, tab2, other):
        await pong_next(comm)  # each probe reached its own tab only


# --- Heartbeats ----------------------------------------------------------------------------------


async def test_an_open_console_beats_again_and_again(sockets, presence, beat_fast) -> None:
    agent = await db(AgentFactory)()
    console, _ = await sockets.console(agent)
    (connected,) = await presence.connected()
    channel = connected["channel_name"]

    await presence.wait_for(lambda: len(presence.of("heartbeat", channel)) >= 3)

    assert presence.of("heartbeat", channel)[:3] == [connected] * 3
    names = presence.names(channel)
    assert names[0] == "connected" and set(names[1:]) == {"heartbeat"}
    # The heartbeat runs beside the socket, which keeps answering.
    await pong_next(console)


async def test_heartbeats_keep_coming_after_a_receiver_fails(
    sockets, presence, beat_fast, caplog
) -> None:
    failures = []

    def flaky(sender: Signal, **kwargs: Any) -> None:
        if not failures:
            failures.append(kwargs["channel_name"])
            raise RuntimeError("presence store unavailable")

    events.agent_heartbeat.connect(flaky, weak=False)
    try:
        await sockets.console(await db(AgentFactory)())
        (connected,) = await presence.connected()
        channel = connected["channel_name"]
        await presence.wait_for(lambda: len(presence.of("heartbeat", channel)) >= 2)
    finally:
        events.agent_heartbeat.disconnect(flaky)
    assert failures == [channel]
    assert "console heartbeat failed" in caplog.text


# --- Disconnected --------------------------------------------------------------------------------


async def test_closing_the_console_sends_agent_disconnected(sockets, presence) -> None:
    agent = await db(AgentFactory)()
    console, _ = await sockets.console(agent)
    (connected,) = await presence.connected()

    await console.disconnect(timeout=TIMEOUT)
    await presence.wait_for(lambda: bool(presence.of("disconnected")))

    assert presence.of("disconnected") == [connected]
    assert presence.names(connected["channel_name"]) == ["connected", "disconnected"]


async def test_no_heartbeat_after_the_console_closed(sockets, presence, beat_fast) -> None:
    agent = await db(AgentFactory)()
    closing, _ = await sockets.console(agent)
    (gone,) = await presence.connected()
    await sockets.console(agent)  # another tab, beating on the same interval: the clock
    _, clock = await presence.connected(2)
    await presence.wait_for(lambda: len(presence.of("heartbeat", gone["channel_name"])) >= 1)

    await closing.disconnect(timeout=TIMEOUT)
    await presence.wait_for(lambda: bool(presence.of("disconnected")))
    seen = len(presence.sent)
    # Three beats of the tab still open; a heartbeat left running would have beaten as often.
    await presence.wait_for(
        lambda: [name for name, _ in presence.sent[seen:]].count("heartbeat") >= 3
    )

    names = presence.names(gone["channel_name"])
    assert names[-1] == "disconnected" and names.count("disconnected") == 1
    assert all(kwargs == clock for _, kwargs in presence.sent[seen:])


# --- Refused consoles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(None, id="anonymous"),
        pytest.param(UserFactory, id="plain-user"),
        pytest.param(SupervisorFactory, id="supervisor"),
        pytest.param(lambda: AgentFactory(is_active=False), id="inactive-agent"),
    ],
)
async def test_a_refused_console_sends_no_presence_signal(
    sockets, presence, beat_fast, make_user
) -> None:
    user = await db(make_user)() if make_user else None
    refused = sockets.communicator("/ws/console/", origin=OWN_ORIGIN, user=user)
    code, close_code = ("unauthenticated", 4001) if user is None else ("forbidden", 4003)
    await refused_with(refused, code, close_code)
    await refused.disconnect(timeout=TIMEOUT)

    # An agent's console as the clock: a few of its beats, and nothing from the refused one.
    agent = await db(AgentFactory)()
    await sockets.console(agent)
    (clock,) = await presence.connected()
    await presence.wait_for(lambda: len(presence.of("heartbeat")) >= 3)

    assert {kwargs["agent_id"] for _, kwargs in presence.sent} == {agent.pk}
    assert all(kwargs == clock for _, kwargs in presence.sent)
