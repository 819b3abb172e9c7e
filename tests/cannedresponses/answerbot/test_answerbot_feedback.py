"""The customer's bot frames over a real socket: `bot_status`, `bot_feedback` (a helpful answer
may close the chat as resolved by the bot; a rejection is recorded and the customer stays
queued; the first answer stands) and `human`. Bad frames get `error` frames, never a crash or
a dropped socket, and change nothing."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from cannedresponses.models import BotAnswer, BotChat
from chat import services as chat_services
from chat.models import Chat, Message
from tests.chat.consumers.wsutil import (
    Sockets,
    db,
    frames_until,
    pong_next,
    receive_type,
    reload,
    round_trip,
)
from tests.factories import AgentFactory, ArticleFactory, TopicBotFactory, TopicFactory
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _eager(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    yield opened
    await opened.close_all()


@db
def answered_chat(question: str = "How do I return my parcel?") -> tuple[Chat, int]:
    """A queued chat whose first question the bot answered; the answer's seq."""
    topic = TopicFactory(name="Returns", slug="returns")
    TopicBotFactory(topic=topic)
    ArticleFactory(title="How to return an item", body="Pack the parcel and return it.")
    chat = start_chat(topic=topic, message=question)
    seq = Message.objects.get(chat=chat, kind=Message.Kind.BOT).seq
    return chat, seq


@db
def feedback_of(chat: Chat) -> list[str]:
    return list(BotAnswer.objects.filter(chat=chat).values_list("feedback", flat=True))


@db
def assign(chat: Chat) -> None:
    chat_services.chat_assign(chat_id=chat.pk, agent=AgentFactory())


async def feedback(comm: Any, **fields: Any) -> dict[str, Any]:
    return await round_trip(comm, {"type": "bot_feedback", **fields})


async def answer(comm: Any, **fields: Any) -> dict[str, Any]:
    """Send feedback; its answer, past frames published to the socket meanwhile."""
    await comm.send_json_to({"type": "bot_feedback", **fields})
    frames = await frames_until(comm, lambda f: f["type"] in ("bot", "error"))
    return frames[-1]


async def test_bot_status_tells_the_widget_what_to_show(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    assert await round_trip(comm, {"type": "bot_status"}) == {
        "type": "bot",
        "chat": chat.pk,
        "enabled": True,
        "active": True,
        "human_requested": False,
        "answers": [{"message": seq, "helpful": None}],
    }


async def test_helpful_is_recorded_and_the_chat_stays_queued(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    reply = await feedback(comm, message=seq, helpful=True)
    assert reply["type"] == "bot"
    assert reply["answers"] == [{"message": seq, "helpful": True}]
    assert await feedback_of(chat) == ["helpful"]
    assert (await reload(chat)).status == Chat.Status.QUEUED
    # Every tab hears it: the same frame, published to the chat's customer sockets.
    assert (await receive_type(comm, "bot"))["answers"] == reply["answers"]


async def test_helpful_with_close_ends_the_chat_as_resolved_by_the_bot(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    reply = await feedback(comm, message=seq, helpful=True, close=True)
    assert reply["answers"] == [{"message": seq, "helpful": True}]
    assert reply["active"] is False
    closed = await reload(chat)
    assert (closed.status, closed.close_reason, closed.closed_by) == (
        Chat.Status.CLOSED,
        Chat.CloseReason.RESOLVED_BY_BOT,
        Chat.ClosedBy.CUSTOMER,
    )
    frame = await receive_type(comm, "chat")
    assert (frame["status"], frame["closed_by"]) == ("closed", "customer")
    # A double click: answered as the first, nothing else happens.
    assert (await feedback(comm, message=seq, helpful=True, close=True))["type"] == "bot"


async def test_a_rejection_is_recorded_and_the_customer_keeps_waiting(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    reply = await feedback(comm, message=seq, helpful=False)
    assert reply["answers"] == [{"message": seq, "helpful": False}]
    assert reply["active"] is True
    assert await feedback_of(chat) == ["rejected"]
    assert (await reload(chat)).status == Chat.Status.QUEUED


async def test_the_first_answer_stands(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    await feedback(comm, message=seq, helpful=False)
    await receive_type(comm, "bot")  # the copy published to every tab
    again = await feedback(comm, message=seq, helpful=False)
    assert again["answers"] == [{"message": seq, "helpful": False}]
    error = await feedback(comm, message=seq, helpful=True)
    assert (error["type"], error["code"]) == ("error", "feedback_given")
    error = await feedback(comm, message=seq, helpful=True, close=True)
    assert error["code"] == "feedback_given"
    assert await feedback_of(chat) == ["rejected"]
    assert (await reload(chat)).status == Chat.Status.QUEUED


async def test_closing_once_an_agent_has_the_chat_is_refused(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    await assign(chat)
    await receive_type(comm, "chat")  # the agent joined
    error = await answer(comm, message=seq, helpful=True, close=True)
    assert (error["type"], error["code"]) == ("error", "not_queued")
    assert await feedback_of(chat) == [""]
    assert (await reload(chat)).status == Chat.Status.ACTIVE
    # Saying it helped is still welcome.
    assert (await answer(comm, message=seq, helpful=True))["type"] == "bot"


async def test_feedback_on_a_closed_chat_is_refused(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    await round_trip(comm, {"type": "close"})
    error = await feedback(comm, message=seq, helpful=False)
    assert (error["type"], error["code"]) == ("error", "chat_closed")
    assert await feedback_of(chat) == [""]


async def test_only_this_chats_automated_answers(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    other, other_seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    # The customer's own question, the greeting, a seq nobody has.
    for message in (seq - 1, 1, 999):
        error = await feedback(comm, message=message, helpful=False)
        assert (error["type"], error["code"]) == ("error", "bot_answer_not_found"), message
    # Another chat, named in the frame: not this socket's.
    error = await feedback(comm, chat=other.pk, message=other_seq, helpful=False)
    assert (error["code"], error["chat"]) == ("chat_not_found", other.pk)
    assert await feedback_of(chat) == [""]
    assert await feedback_of(other) == [""]
    await pong_next(comm)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"helpful": True},
        {"message": "5", "helpful": True},
        {"message": 5.0, "helpful": True},
        {"message": True, "helpful": True},
        {"message": 0, "helpful": True},
        {"message": -3, "helpful": True},
        {"message": 10**40, "helpful": True},
        {"message": [5], "helpful": True},
        {"message": None, "helpful": True},
        {"message": 5},
        {"message": 5, "helpful": "yes"},
        {"message": 5, "helpful": 1},
        {"message": 5, "helpful": None},
        {"message": 5, "helpful": True, "close": "true"},
        {"message": 5, "helpful": True, "close": 1},
        {"message": 5, "helpful": False, "close": True},
        {"message": {"$gt": 0}, "helpful": True},
        {"message": "<script>alert(1)</script>", "helpful": True},
    ],
)
async def test_malformed_feedback_is_refused_and_the_socket_stays(
    sockets: Sockets, fields: dict[str, Any]
) -> None:
    chat, _seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    error = await feedback(comm, **fields)
    assert (error["type"], error["code"]) == ("error", "invalid_frame"), error
    assert await feedback_of(chat) == [""]
    assert (await reload(chat)).status == Chat.Status.QUEUED
    await pong_next(comm)


async def test_the_chat_field_may_be_a_bad_value(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    for bad in ("1", -1, None, 1.5):
        error = await feedback(comm, chat=bad, message=seq, helpful=True)
        assert error["code"] == "invalid_frame"
    await pong_next(comm)


async def test_human_stops_the_bot_and_keeps_the_queue(sockets: Sockets) -> None:
    chat, _seq = await answered_chat()
    comm, _ = await sockets.customer(chat)
    reply = await round_trip(comm, {"type": "human"})
    assert (reply["type"], reply["active"], reply["human_requested"]) == ("bot", False, True)
    assert (await reload(chat)).status == Chat.Status.QUEUED
    assert await db(
        BotChat.objects.filter(chat_id=chat.pk, human_requested_at__isnull=False).exists
    )()
    # Extra fields are ignored; asking again is harmless.
    again = await round_trip(comm, {"type": "human", "please": "<b>now</b>"})
    assert again["human_requested"] is True


async def test_agents_cannot_send_the_customers_bot_frames(sockets: Sockets) -> None:
    chat, seq = await answered_chat()
    agent = await db(AgentFactory)()
    comm, _ = await sockets.console(agent)
    for frame in (
        {"type": "bot_feedback", "chat": chat.pk, "message": seq, "helpful": True},
        {"type": "human", "chat": chat.pk},
        {"type": "bot_status", "chat": chat.pk},
    ):
        error = await round_trip(comm, frame)
        assert (error["type"], error["code"]) == ("error", "unknown_type")
    assert await feedback_of(chat) == [""]


async def test_a_topic_without_the_bot_says_so(sockets: Sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    reply = await round_trip(comm, {"type": "bot_status"})
    assert (reply["enabled"], reply["active"], reply["answers"]) == (False, False, [])
    error = await feedback(comm, message=2, helpful=True)
    assert error["code"] == "bot_answer_not_found"
