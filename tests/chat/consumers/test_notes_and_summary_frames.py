"""`note` and `summary` over the console socket: notes reach staff sockets only; hostile
frames get clear errors and change nothing."""

import pytest

from chat.models import ChatNote
from tests.chat.consumers.wsutil import db, pong_next, receive_type, round_trip
from tests.factories import AgentFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_note_reaches_the_agents_console_and_never_the_customer(sockets) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    customer, _ = await sockets.customer(chat)

    await console.send_json_to({"type": "note", "chat": chat.pk, "body": "VIP customer."})

    note = await receive_type(console, "note")
    assert (note["chat"], note["body"], note["author"]["name"]) == (
        chat.pk,
        "VIP customer.",
        "Bruno",
    )
    await pong_next(customer)  # nothing else reached the customer


async def test_the_summary_is_sent_back_to_the_asking_console(sockets) -> None:
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent, message="Where is my parcel?")
    console, _ = await sockets.console(agent)

    summary = await round_trip(console, {"type": "summary", "chat": chat.pk})

    assert summary["type"] == "summary" and summary["chat"] == chat.pk
    assert summary["first_question"]["body"] == "Where is my parcel?"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        pytest.param({"type": "note", "chat": 1}, "invalid_frame", id="no-body"),
        pytest.param({"type": "note", "chat": 1, "body": 5}, "invalid_frame", id="body-int"),
        pytest.param({"type": "note", "body": "x"}, "invalid_frame", id="no-chat"),
        pytest.param({"type": "note", "chat": 1, "body": ""}, "note_empty", id="empty"),
        pytest.param({"type": "note", "chat": 1, "body": "x" * 2001}, "note_too_long", id="long"),
        pytest.param({"type": "summary", "chat": "1"}, "invalid_frame", id="summary-str"),
        pytest.param({"type": "summary"}, "invalid_frame", id="summary-no-chat"),
    ],
)
async def test_hostile_frames_get_clear_errors(sockets, frame, code) -> None:
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    if frame.get("chat") == 1:
        frame = {**frame, "chat": chat.pk}

    reply = await round_trip(console, frame)

    assert reply["type"] == "error" and reply["code"] == code, reply
    assert not await db(ChatNote.objects.exists)()


async def test_another_agents_chat_is_refused_or_unknown(sockets) -> None:
    chat = await db(active_chat)()
    console, _ = await sockets.console(await db(AgentFactory)())

    note = await round_trip(console, {"type": "note", "chat": chat.pk, "body": "Mine now"})
    summary = await round_trip(console, {"type": "summary", "chat": chat.pk})

    assert note["code"] == "forbidden"
    assert summary["code"] == "chat_not_found"
    assert not await db(ChatNote.objects.exists)()


async def test_a_customer_cannot_send_notes_or_ask_for_a_summary(sockets) -> None:
    chat = await db(active_chat)()
    customer, _ = await sockets.customer(chat)

    for frame_type in ("note", "summary"):
        reply = await round_trip(customer, {"type": frame_type, "body": "x"})
        assert reply["type"] == "error" and reply["code"] == "forbidden"
    assert not await db(ChatNote.objects.exists)()
