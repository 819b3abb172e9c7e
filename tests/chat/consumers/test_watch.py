"""`watch`: a console follows a chat that is not its agent's, read-only (supervisors write)."""

import pytest

from chat import services
from chat.consumers import MAX_WATCHED_CHATS
from chat.services import Participant
from tests.chat.consumers.wsutil import db, pong_next, receive, receive_type, round_trip
from tests.factories import AgentFactory, SupervisorFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


@db
def agent_and_supervisor():  # type: ignore[no-untyped-def]
    user = AgentFactory(first_name="Sam")
    user.groups.add(*SupervisorFactory().groups.all())
    return user


@db
def requeue_then_take(chat, *, agent):  # type: ignore[no-untyped-def]
    services.chat_requeue(chat_id=chat.pk, reason="agent_left")
    return services.chat_assign(chat_id=chat.pk, agent=agent)


async def test_a_supervisor_watches_any_chat_and_hears_it_live(sockets) -> None:
    chat = await db(active_chat)(agent=await db(AgentFactory)(first_name="Bruno"))
    console, _ = await sockets.console(await agent_and_supervisor())

    frame = await round_trip(console, {"type": "watch", "chat": chat.pk})
    assert frame["type"] == "chat" and frame["id"] == chat.pk
    assert frame["agent"]["name"] == "Bruno"

    await db(services.message_post)(
        chat_id=chat.pk, sender=Participant.customer(), body="Still there?"
    )
    message = await receive_type(console, "message")
    assert message["chat"] == chat.pk and message["body"] == "Still there?"


async def test_a_supervisor_steps_into_a_chat_that_is_not_theirs(sockets) -> None:
    chat = await db(active_chat)()
    console, _ = await sockets.console(await agent_and_supervisor())
    await round_trip(console, {"type": "watch", "chat": chat.pk})

    ack = await round_trip(
        console, {"type": "message", "chat": chat.pk, "body": "Sam here.", "client_msg_id": "s1"}
    )

    # The message frame (to watchers) and the ack can come in either order.
    frames = [ack, await receive(console)]
    assert sorted(f["type"] for f in frames) == ["ack", "message"]
    (message,) = [f for f in frames if f["type"] == "message"]
    assert (message["kind"], message["author"], message["body"]) == ("agent", "Sam", "Sam here.")
    assert await db(lambda: chat.messages.get(seq=message["seq"]).author.first_name)() == "Sam"


async def test_an_agent_who_held_a_chat_reads_it_but_cannot_write(sockets) -> None:
    first = await db(AgentFactory)(first_name="Bruno")
    chat = await db(active_chat)(agent=first)
    await requeue_then_take(chat, agent=await db(AgentFactory)(first_name="Carla"))
    console, _ = await sockets.console(first)

    frame = await round_trip(console, {"type": "watch", "chat": chat.pk})
    assert frame["type"] == "chat" and frame["agent"]["name"] == "Carla"
    history = await round_trip(console, {"type": "resume", "chat": chat.pk, "after_seq": 0})
    assert history["type"] == "message" and history["seq"] == 1

    await pong_next_after_resume(console)
    await db(chat.refresh_from_db)()
    before = chat.last_seq
    refused = await round_trip(
        console, {"type": "message", "chat": chat.pk, "body": "Me again", "client_msg_id": "x1"}
    )
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert "Carla" in refused["detail"] and "read-only" in refused["detail"]
    await db(chat.refresh_from_db)()
    assert chat.last_seq == before


async def pong_next_after_resume(console) -> None:  # type: ignore[no-untyped-def]
    while (await receive(console))["type"] != "resumed":
        pass


async def test_an_agent_cannot_watch_a_chat_they_never_held(sockets) -> None:
    chat = await db(active_chat)()
    console, _ = await sockets.console(await db(AgentFactory)())

    reply = await round_trip(console, {"type": "watch", "chat": chat.pk})

    assert reply == {
        "type": "error",
        "code": "chat_not_found",
        "detail": "No such chat.",
        "chat": chat.pk,
    }
    # And hears nothing of it afterwards.
    await db(services.message_post)(chat_id=chat.pk, sender=Participant.customer(), body="Hi")
    await pong_next(console)


async def test_unwatch_stops_the_frames(sockets) -> None:
    chat = await db(active_chat)()
    console, _ = await sockets.console(await agent_and_supervisor())
    await round_trip(console, {"type": "watch", "chat": chat.pk})

    await console.send_json_to({"type": "unwatch", "chat": chat.pk})
    await pong_next(console)
    await db(services.message_post)(chat_id=chat.pk, sender=Participant.customer(), body="Hi")

    await pong_next(console)


async def test_a_console_watches_a_bounded_number_of_chats(sockets) -> None:
    chats = [await db(start_chat)() for _ in range(MAX_WATCHED_CHATS + 1)]
    console, _ = await sockets.console(await agent_and_supervisor())
    for chat in chats[:MAX_WATCHED_CHATS]:
        assert (await round_trip(console, {"type": "watch", "chat": chat.pk}))["type"] == "chat"

    reply = await round_trip(console, {"type": "watch", "chat": chats[-1].pk})
    assert reply["type"] == "error" and reply["code"] == "too_many_watched"
    # Watching one already watched is not one more.
    again = await round_trip(console, {"type": "watch", "chat": chats[0].pk})
    assert again["type"] == "chat"


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param({"type": "watch"}, id="no-chat"),
        pytest.param({"type": "watch", "chat": "1"}, id="string-id"),
        pytest.param({"type": "watch", "chat": True}, id="bool-id"),
        pytest.param({"type": "watch", "chat": 0}, id="zero"),
        pytest.param({"type": "watch", "chat": 10**30}, id="huge"),
        pytest.param({"type": "unwatch", "chat": None}, id="unwatch-null"),
    ],
)
async def test_malformed_watch_frames_get_a_clear_error(sockets, frame) -> None:
    console, _ = await sockets.console(await db(AgentFactory)())

    reply = await round_trip(console, frame)

    assert reply["type"] == "error" and reply["code"] in {"invalid_frame", "chat_not_found"}
    await pong_next(console)


async def test_a_customer_cannot_watch(sockets) -> None:
    chat = await db(start_chat)()
    customer, _ = await sockets.customer(chat)

    reply = await round_trip(customer, {"type": "watch", "chat": chat.pk})

    assert reply["type"] == "error" and reply["code"] == "forbidden"
