"""The customer's `queue_status` frame, over a real socket: where does my chat stand?"""

import pytest

from tests.chat.consumers.wsutil import db, pong_next, receive_type, round_trip
from tests.factories import TopicFactory
from tests.helpers import active_chat, start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _default_handling(settings) -> None:
    settings.HELPDESK_DEFAULT_HANDLING_SECONDS = 300


@db
def two_queued_chats():  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    return start_chat(topic=topic), start_chat(topic=topic)


async def test_a_customer_gets_their_own_chats_queue_frame(sockets) -> None:
    _first, second = await two_queued_chats()
    comm, _ = await sockets.customer(second)

    assert await round_trip(comm, {"type": "queue_status"}) == {
        "type": "queue",
        "chat": second.pk,
        "position": 2,
        "estimated_wait_seconds": None,
        "agents_available": False,
        "message_offered": True,
    }
    await pong_next(comm)


async def test_with_an_agent_online_the_estimate_is_given(sockets) -> None:
    topic = await db(TopicFactory)()
    # Full with one chat: the next one waits.
    await db(make_agent)(topics=[topic], max_chats=1)
    await db(start_chat)(topic=topic)
    waiting = await db(start_chat)(topic=topic)
    comm, _ = await sockets.customer(waiting)

    await comm.send_json_to({"type": "queue_status", "chat": waiting.pk})

    assert await receive_type(comm, "queue") == {
        "type": "queue",
        "chat": waiting.pk,
        "position": 1,
        "estimated_wait_seconds": 300,
        "agents_available": True,
        "message_offered": False,
    }


async def test_an_active_chat_is_answered_with_every_field_null(sockets) -> None:
    chat = await db(active_chat)()
    comm, _ = await sockets.customer(chat)

    assert await round_trip(comm, {"type": "queue_status"}) == {
        "type": "queue",
        "chat": chat.pk,
        "position": None,
        "estimated_wait_seconds": None,
        "agents_available": None,
        "message_offered": None,
    }


async def test_a_customer_cannot_ask_about_another_chat(sockets) -> None:
    mine, other = await two_queued_chats()
    comm, _ = await sockets.customer(mine)

    error = await round_trip(comm, {"type": "queue_status", "chat": other.pk})

    assert (error["type"], error["code"]) == ("error", "chat_not_found"), error
    await pong_next(comm)


async def test_an_agent_cannot_send_queue_status(sockets) -> None:
    agent = await db(make_agent)()
    comm, _ = await sockets.console(agent)
    error = await round_trip(comm, {"type": "queue_status"})
    assert (error["type"], error["code"]) == ("error", "unknown_type")
