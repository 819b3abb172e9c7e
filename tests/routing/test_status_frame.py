"""The console's `status` frame, over a real socket: the agent chooses online or away."""

import pytest

from chat.models import Chat
from routing.models import AgentProfile, ConsoleConnection
from tests.chat.consumers.wsutil import db, pong_next, receive, round_trip
from tests.factories import AgentFactory, TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


@db
def status_of(agent) -> str:  # type: ignore[no-untyped-def]
    return AgentProfile.objects.get(user=agent).status


async def test_choosing_online_then_away_is_confirmed_and_stored(sockets) -> None:
    agent = await db(AgentFactory)()
    comm, _ = await sockets.console(agent)

    assert await round_trip(comm, {"type": "status", "status": "online"}) == {
        "type": "agent_status",
        "status": "online",
    }
    assert await status_of(agent) == "online"
    assert await round_trip(comm, {"type": "status", "status": "away"}) == {
        "type": "agent_status",
        "status": "away",
    }
    assert await status_of(agent) == "away"


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "status"},
        {"type": "status", "status": None},
        {"type": "status", "status": "offline"},
        {"type": "status", "status": "ONLINE"},
        {"type": "status", "status": " online"},
        {"type": "status", "status": "online\n"},
        {"type": "status", "status": ["online"]},
        {"type": "status", "status": {"$eq": "online"}},
        {"type": "status", "status": 1},
        {"type": "status", "status": True},
        {"type": "status", "status": "busy"},
        {"type": "status", "status": "online'; DROP TABLE routing_agentprofile; --"},
        {"type": "status", "status": "x" * 60000},
    ],
    ids=lambda f: repr(f.get("status", "<missing>"))[:30],
)
async def test_anything_else_is_an_invalid_frame_and_changes_nothing(sockets, frame) -> None:
    agent = await db(AgentFactory)()
    comm, _ = await sockets.console(agent)

    error = await round_trip(comm, frame)

    assert error["type"] == "error" and error["code"] == "invalid_frame", error
    assert await status_of(agent) == "offline"
    await pong_next(comm)  # the socket stays usable


async def test_a_customer_cannot_send_a_status_frame(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    error = await round_trip(comm, {"type": "status", "status": "online"})
    assert (error["type"], error["code"]) == ("error", "unknown_type")


async def test_the_console_is_a_connection_while_open(sockets) -> None:
    agent = await db(AgentFactory)()
    comm, _ = await sockets.console(agent)
    await pong_next(comm)
    assert await db(ConsoleConnection.objects.filter(agent=agent).count)() == 1

    await comm.disconnect()

    assert await db(ConsoleConnection.objects.filter(agent=agent).exists)() is False


async def test_going_online_brings_waiting_chats_to_the_console(sockets) -> None:
    topic = await db(TopicFactory)()
    agent = await db(make_agent)(topics=[topic], status="away", present=False)
    chat = await db(start_chat)(topic=topic)
    comm, snapshot = await sockets.console(agent)
    assert [c["status"] for c in snapshot["chats"]] == ["queued"]

    await comm.send_json_to({"type": "status", "status": "online"})

    frames = []
    while not any(f["type"] == "agent_status" for f in frames) or not any(
        f["type"] == "chat" and f["status"] == "active" for f in frames
    ):
        frames.append(await receive(comm))
    assert {"type": "agent_status", "status": "online"} in frames
    taken = next(f for f in frames if f["type"] == "chat" and f["status"] == "active")
    assert (taken["id"], taken["agent"]["id"]) == (chat.pk, agent.pk)
    assert await db(Chat.objects.values_list("agent_id", flat=True).get)(pk=chat.pk) == agent.pk
