"""The customer's socket: one chat, opened by its token alone."""

import pytest

from chat import services
from chat.models import Chat
from chat.services import Participant
from chat.tokens import customer_token_make
from tests.chat.consumers.wsutil import (
    bodies,
    db,
    frames_until,
    message_count,
    messages_post_failing_once,
    pong_next,
    receive,
    receive_type,
    refused_with,
    reload,
    round_trip,
)
from tests.chat.frames import assert_customer_safe
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat, token_for

pytestmark = pytest.mark.django_db(transaction=True)


@db
def post_as_customer(chat: Chat, count: int) -> None:
    for n in range(count):
        services.message_post(
            chat_id=chat.pk, sender=Participant.customer(), body=f"m{n}", client_msg_id=f"m{n}"
        )


def message(body: str = "Hello", client_msg_id: str = "c-1", **extra) -> dict:
    return {"type": "message", "body": body, "client_msg_id": client_msg_id, **extra}


# --- Connecting --------------------------------------------------------------------------------


async def test_a_valid_token_opens_the_chat_and_shows_its_state(sockets) -> None:
    chat = await db(start_chat)(name="Ana Lima", email="ana@example.com")
    _, first = await sockets.customer(chat)
    assert first == {
        "type": "chat",
        "id": chat.pk,
        "status": "queued",
        "topic": {"slug": chat.topic.slug, "name": chat.topic.name},
        "agent": None,
        "customer": {"name": "Ana Lima"},
        "last_seq": 2,
        "closed_by": None,
    }
    assert_customer_safe(first, email="ana@example.com")


async def test_an_active_chat_shows_the_agent_by_first_name_only(sockets) -> None:
    agent = await db(AgentFactory)(first_name="Bruno", last_name="Costa")
    chat = await db(active_chat)(agent=agent)
    _, first = await sockets.customer(chat)
    assert first["status"] == "active"
    assert first["agent"] == {"name": "Bruno"}
    assert_customer_safe(first)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda chat: "not-a-token", id="junk"),
        pytest.param(lambda chat: "1", id="digits"),
        pytest.param(lambda chat: token_for(chat)[:-1] + "x", id="tampered-signature"),
        pytest.param(
            lambda chat: str(chat.pk + 1) + token_for(chat)[len(str(chat.pk)) :], id="other-chat-id"
        ),
        pytest.param(
            lambda chat: customer_token_make(chat_id=chat.pk, customer_key="guess"), id="wrong-key"
        ),
        pytest.param(lambda chat: token_for(chat).split(":")[0], id="unsigned"),
    ],
)
async def test_a_bad_token_gets_an_error_then_close_4001(sockets, make_token) -> None:
    chat = await db(start_chat)()
    comm = sockets.communicator(f"/ws/chat/{make_token(chat)}/")
    await refused_with(comm, "invalid_token", 4001)


async def test_a_rotated_customer_key_revokes_the_token(sockets) -> None:
    chat = await db(start_chat)()
    old_token = token_for(chat)
    await db(Chat.objects.filter(pk=chat.pk).update)(customer_key="rotated-0123456789abcdef")
    await refused_with(sockets.communicator(f"/ws/chat/{old_token}/"), "invalid_token", 4001)


async def test_a_token_of_a_deleted_chat_is_refused(sockets) -> None:
    chat = await db(start_chat)()
    token = token_for(chat)
    await db(Chat.objects.filter(pk=chat.pk).delete)()
    await refused_with(sockets.communicator(f"/ws/chat/{token}/"), "invalid_token", 4001)


async def test_an_oversize_token_never_opens_a_chat(sockets) -> None:
    chat = await db(start_chat)()
    comm = sockets.communicator(f"/ws/chat/{token_for(chat)}{'A' * 200}/")
    connected, _ = await comm.connect()
    assert connected
    error = await receive(comm)
    assert error["type"] == "error"
    output = await comm.receive_output()
    assert output["type"] == "websocket.close" and output["code"] in {4001, 4004}


# --- Frames --------------------------------------------------------------------------------------


async def test_ping_is_answered_with_pong(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    assert await round_trip(comm, {"type": "ping"}) == {"type": "pong"}


async def test_a_message_is_stored_acked_and_echoed_to_every_tab(sockets) -> None:
    chat = await db(start_chat)()
    tab1, _ = await sockets.customer(chat)
    tab2, _ = await sockets.customer(chat)

    await tab1.send_json_to(message("Where is it?", "c-1"))
    ack = await receive_type(tab1, "ack")
    assert ack == {"type": "ack", "chat": chat.pk, "client_msg_id": "c-1", "seq": 3}
    for tab in (tab1, tab2):
        echo = await receive_type(tab, "message")
        assert (echo["seq"], echo["kind"], echo["body"]) == (3, "customer", "Where is it?")
        assert echo["client_msg_id"] == "c-1"
    assert (await bodies(chat))[1:] == ["Where is my parcel?", "Where is it?"]


async def test_naming_ones_own_chat_is_allowed(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    await comm.send_json_to(message(chat=chat.pk))
    assert (await receive_type(comm, "ack"))["seq"] == 3


async def test_a_resend_is_acked_with_the_original_seq_and_stored_once(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    await comm.send_json_to(message("Hello", "c-1"))
    first = await receive_type(comm, "ack")
    await comm.send_json_to(message("Hello", "c-1"))
    second = await receive_type(comm, "ack")
    assert first == second
    assert await message_count(chat) == 3


async def test_a_resend_with_another_body_is_a_conflict(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    await comm.send_json_to(message("Hello", "c-1"))
    await receive_type(comm, "ack")
    await comm.send_json_to(message("Hello again", "c-1"))
    error = await receive_type(comm, "error")
    assert error["code"] == "client_msg_id_conflict"
    assert error["client_msg_id"] == "c-1"
    assert await message_count(chat) == 3


async def test_another_chats_id_is_chat_not_found_and_nothing_is_stored(sockets) -> None:
    mine, other = await db(start_chat)(), await db(start_chat)()
    comm, _ = await sockets.customer(mine)
    for frame in (
        message("sneaky", "s-1", chat=other.pk),
        {"type": "resume", "chat": other.pk, "after_seq": 0},
        {"type": "typing", "chat": other.pk},
        {"type": "close", "chat": other.pk},
    ):
        error = await round_trip(comm, frame)
        assert error["type"] == "error" and error["code"] == "chat_not_found", (frame, error)
        assert error["chat"] == other.pk
    assert await message_count(mine) == 2 and await message_count(other) == 2
    assert (await reload(other)).status == "queued"
    assert (await reload(mine)).status == "queued"


async def test_a_customer_cannot_take_a_chat(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    for frame in ({"type": "take"}, {"type": "take", "chat": chat.pk}):
        error = await round_trip(comm, frame)
        assert (error["type"], error["code"]) == ("error", "forbidden")
    assert (await reload(chat)).status == "queued"


async def test_resume_returns_exactly_the_missing_messages_in_order(sockets) -> None:
    chat = await db(start_chat)()
    await post_as_customer(chat, 4)  # seqs 3..6
    comm, first = await sockets.customer(chat)
    assert first["last_seq"] == 6

    await comm.send_json_to({"type": "resume", "after_seq": 3})
    frames = await frames_until(comm, lambda f: f["type"] == "resumed")

    assert [(f["type"], f["seq"], f["body"]) for f in frames[:-1]] == [
        ("message", 4, "m1"),
        ("message", 5, "m2"),
        ("message", 6, "m3"),
    ]
    assert frames[-1] == {"type": "resumed", "chat": chat.pk, "last_seq": 6, "more": False}


async def test_resume_when_nothing_is_missing(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    assert await round_trip(comm, {"type": "resume", "after_seq": 2}) == {
        "type": "resumed",
        "chat": chat.pk,
        "last_seq": None,
        "more": False,
    }


async def test_resume_of_a_long_history_says_there_is_more(sockets, monkeypatch) -> None:
    monkeypatch.setattr("chat.selectors.RESUME_BATCH", 2)
    chat = await db(start_chat)()
    await post_as_customer(chat, 1)  # seqs 1..3
    comm, _ = await sockets.customer(chat)
    await comm.send_json_to({"type": "resume", "after_seq": 0})
    frames = await frames_until(comm, lambda f: f["type"] == "resumed")
    assert [f.get("seq") for f in frames[:-1]] == [1, 2]
    assert frames[-1]["more"] is True and frames[-1]["last_seq"] == 2
    await comm.send_json_to({"type": "resume", "after_seq": 2})
    frames = await frames_until(comm, lambda f: f["type"] == "resumed")
    assert [f.get("seq") for f in frames[:-1]] == [3]
    assert frames[-1]["more"] is False


async def test_the_customer_can_end_the_chat(sockets) -> None:
    chat = await db(start_chat)(name="Ana Lima")
    comm, _ = await sockets.customer(chat)
    await comm.send_json_to({"type": "close"})
    frames = await frames_until(comm, lambda f: f["type"] == "chat")
    ended = [f for f in frames if f["type"] == "message"]
    assert [(f["seq"], f["body"]) for f in ended] == [(3, "Chat ended by Ana.")]
    assert frames[-1]["status"] == "closed" and frames[-1]["closed_by"] == "customer"
    assert_customer_safe(frames[-1])

    error = await round_trip(comm, {"type": "close"})
    assert error["code"] == "chat_closed"
    error = await round_trip(comm, message("Hello?", "late-1"))
    assert (error["code"], error["client_msg_id"]) == ("chat_closed", "late-1")
    assert await message_count(chat) == 3


async def test_a_closed_chats_token_still_opens_it_to_read(sockets) -> None:
    chat = await db(start_chat)()
    await db(services.chat_close)(chat_id=chat.pk, by=Participant.customer())
    comm, first = await sockets.customer(chat)
    assert first["status"] == "closed" and first["last_seq"] == 3
    await comm.send_json_to({"type": "resume", "after_seq": 0})
    frames = await frames_until(comm, lambda f: f["type"] == "resumed")
    assert [f["seq"] for f in frames[:-1]] == [1, 2, 3]


async def test_typing_while_queued_goes_nowhere_and_is_no_error(sockets) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    await comm.send_json_to({"type": "typing"})
    await pong_next(comm)


async def test_the_customer_hears_the_agent_join_and_answer(sockets) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    chat = await db(start_chat)(email="ana@example.com")
    comm, _ = await sockets.customer(chat)

    await db(services.chat_assign)(chat_id=chat.pk, agent=agent)
    await db(services.message_post)(
        chat_id=chat.pk, sender=Participant.agent(agent), body="Hi Ana", client_msg_id="a-1"
    )

    frames = await frames_until(comm, lambda f: f.get("body") == "Hi Ana")
    for frame in frames:
        assert_customer_safe(frame, email="ana@example.com")
    (state,) = [f for f in frames if f["type"] == "chat"]
    assert state["status"] == "active" and state["agent"] == {"name": "Bruno"}
    messages = [(f["seq"], f["kind"], f["body"]) for f in frames if f["type"] == "message"]
    assert messages == [(3, "system", "Bruno joined the chat."), (4, "agent", "Hi Ana")]
    assert frames[-1]["author"] == "Bruno"


async def test_a_fault_on_our_side_is_an_internal_error_and_the_socket_lives_on(
    sockets, monkeypatch, caplog
) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    messages_post_failing_once(monkeypatch, RuntimeError("database went away"))

    error = await round_trip(comm, message("Hello", "c-1"))
    assert (error["type"], error["code"]) == ("error", "internal_error")
    assert "database went away" not in error["detail"]  # no internals leak to the client
    assert "frame handling failed" in caplog.text

    await comm.send_json_to(message("Hello", "c-1"))  # the client retries, as told
    assert (await receive_type(comm, "ack"))["seq"] == 3
    assert await message_count(chat) == 3
