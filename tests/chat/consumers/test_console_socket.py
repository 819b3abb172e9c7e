"""The agent's console: one socket for all of their chats and the queue, by Django session."""

import pytest
from django.conf import settings
from django.test import Client

from chat import services
from chat.services import Participant
from tests.chat.consumers.wsutil import (
    OWN_ORIGIN,
    db,
    frames_until,
    message_count,
    pong_next,
    receive_type,
    refused_with,
    reload,
    round_trip,
)
from tests.factories import AgentFactory, SupervisorFactory, UserFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


@db
def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def say(chat_id: int, body: str = "Hello", client_msg_id: str = "a-1") -> dict:
    return {"type": "message", "chat": chat_id, "body": body, "client_msg_id": client_msg_id}


def is_message(frame: dict, chat_id: int, *, seq: int) -> bool:
    """The `message` frame of this chat with this seq (a new chat's last frame to arrive)."""
    return frame["type"] == "message" and frame.get("chat") == chat_id and frame["seq"] == seq


# --- Who may connect -----------------------------------------------------------------------------


async def test_an_anonymous_visitor_is_refused_with_4001(sockets) -> None:
    await refused_with(
        sockets.communicator("/ws/console/", origin=OWN_ORIGIN), "unauthenticated", 4001
    )


async def test_a_bogus_session_cookie_is_refused_with_4001(sockets) -> None:
    comm = sockets.communicator("/ws/console/", origin=OWN_ORIGIN, cookie="sessionid=forged")
    await refused_with(comm, "unauthenticated", 4001)


@pytest.mark.parametrize(
    "make_user",
    [pytest.param(UserFactory, id="plain-user"), pytest.param(SupervisorFactory, id="supervisor")],
)
async def test_a_logged_in_non_agent_is_refused_with_4003(sockets, make_user) -> None:
    user = await db(make_user)()
    comm = sockets.communicator(
        "/ws/console/", origin=OWN_ORIGIN, cookie=await session_cookie(user)
    )
    await refused_with(comm, "forbidden", 4003)


async def test_an_inactive_agent_is_refused(sockets) -> None:
    agent = await db(AgentFactory)(is_active=False)
    comm = sockets.communicator("/ws/console/", origin=OWN_ORIGIN, user=agent)
    await refused_with(comm, "forbidden", 4003)


async def test_an_agent_with_a_session_gets_the_snapshot(sockets) -> None:
    agent = await db(AgentFactory)()
    queued = await db(start_chat)()
    _, snapshot = await sockets.console(cookie=await session_cookie(agent))
    assert [c["id"] for c in snapshot["chats"]] == [queued.pk]
    assert snapshot["server_time"]


async def test_the_snapshot_lists_own_active_chats_then_the_queue(sockets) -> None:
    agent, other = await db(AgentFactory)(), await db(AgentFactory)()
    queued = await db(start_chat)(email="ana@example.com")
    mine = await db(active_chat)(agent=agent)
    await db(active_chat)(agent=other)
    closed = await db(active_chat)(agent=agent)
    await db(services.chat_close)(chat_id=closed.pk, by=Participant.agent(agent))

    _, snapshot = await sockets.console(agent)

    assert [(c["id"], c["status"]) for c in snapshot["chats"]] == [
        (mine.pk, "active"),
        (queued.pk, "queued"),
    ]
    assert snapshot["chats"][1]["customer"]["email"] == "ana@example.com"


# --- Taking chats ------------------------------------------------------------------------------


async def test_taking_a_chat_tells_the_agent_the_customer_and_the_other_consoles(sockets) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    colleague = await db(AgentFactory)()
    chat = await db(start_chat)(email="ana@example.com")
    console, _ = await sockets.console(agent)
    other_console, _ = await sockets.console(colleague)
    customer, _ = await sockets.customer(chat)

    await console.send_json_to({"type": "take", "chat": chat.pk})

    taken = await receive_type(console, "chat")
    assert taken["status"] == "active" and taken["agent"] == {"id": agent.pk, "name": "Bruno"}
    seen_by_colleague = await receive_type(other_console, "chat")
    assert (seen_by_colleague["id"], seen_by_colleague["status"]) == (chat.pk, "active")
    for_customer = await receive_type(customer, "chat")
    assert for_customer["agent"] == {"name": "Bruno"}
    assert "email" not in str(for_customer)
    chat = await reload(chat)
    assert chat.status == "active" and chat.agent_id == agent.pk


async def test_taking_a_chat_another_agent_holds_is_already_assigned(sockets) -> None:
    chat = await db(active_chat)()
    console, _ = await sockets.console(await db(AgentFactory)())
    error = await round_trip(console, {"type": "take", "chat": chat.pk})
    assert (error["type"], error["code"], error["chat"]) == ("error", "already_assigned", chat.pk)
    assert (await reload(chat)).agent_id != console.scope["user"].pk


async def test_taking_ones_own_chat_again_is_harmless(sockets) -> None:
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    await console.send_json_to({"type": "take", "chat": chat.pk})
    await pong_next(console)  # no error frame came first
    assert await message_count(chat) == 3


@pytest.mark.parametrize(
    ("state", "code"), [("closed", "chat_closed"), ("missing", "chat_not_found")]
)
async def test_taking_a_closed_or_missing_chat_is_refused(sockets, state: str, code: str) -> None:
    chat = await db(start_chat)()
    await db(services.chat_close)(chat_id=chat.pk, by=Participant.customer())
    chat_id = chat.pk if state == "closed" else chat.pk + 100
    console, _ = await sockets.console(await db(AgentFactory)())
    error = await round_trip(console, {"type": "take", "chat": chat_id})
    assert (error["code"], error["chat"]) == (code, chat_id)


# --- Messages -------------------------------------------------------------------------------------


async def test_the_agent_answers_and_the_customer_hears_it(sockets) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    customer, _ = await sockets.customer(chat)

    await console.send_json_to(say(chat.pk, "How can I help?", "a-1"))
    ack = await receive_type(console, "ack")
    assert ack == {"type": "ack", "chat": chat.pk, "client_msg_id": "a-1", "seq": 4}
    heard = await receive_type(customer, "message")
    assert (heard["seq"], heard["kind"], heard["author"], heard["body"]) == (
        4,
        "agent",
        "Bruno",
        "How can I help?",
    )


async def test_the_agent_hears_the_customer_on_every_tab(sockets) -> None:
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    tab1, _ = await sockets.console(agent)
    tab2, _ = await sockets.console(agent)
    customer, _ = await sockets.customer(chat)
    await customer.send_json_to({"type": "message", "body": "Hi", "client_msg_id": "c-1"})
    for tab in (tab1, tab2):
        heard = await receive_type(tab, "message")
        assert (heard["chat"], heard["kind"], heard["body"]) == (chat.pk, "customer", "Hi")


async def test_every_console_sees_what_waiting_customers_write(sockets) -> None:
    chat = await db(start_chat)()
    consoles = [(await sockets.console(await db(AgentFactory)()))[0] for _ in range(2)]
    customer, _ = await sockets.customer(chat)
    await customer.send_json_to({"type": "message", "body": "Anyone?", "client_msg_id": "c-1"})
    for console in consoles:
        assert (await receive_type(console, "message"))["body"] == "Anyone?"


async def test_new_chats_appear_in_every_console_live(sockets) -> None:
    console, _ = await sockets.console(await db(AgentFactory)())
    chat = await db(start_chat)(message="New here")
    frame = await receive_type(console, "chat")
    assert (frame["id"], frame["status"], frame["preview"]) == (chat.pk, "queued", "New here")


@pytest.mark.parametrize("state", ["someone-elses", "queued"])
async def test_a_message_to_a_chat_that_is_not_ones_own_is_forbidden(sockets, state: str) -> None:
    chat = await db(active_chat)() if state == "someone-elses" else await db(start_chat)()
    before = await message_count(chat)
    console, _ = await sockets.console(await db(AgentFactory)())
    error = await round_trip(console, say(chat.pk, "Let me in", "x-1"))
    assert (error["type"], error["code"]) == ("error", "forbidden")
    assert (error["chat"], error["client_msg_id"]) == (chat.pk, "x-1")
    assert await message_count(chat) == before


async def test_a_message_to_a_missing_chat_is_chat_not_found(sockets) -> None:
    console, _ = await sockets.console(await db(AgentFactory)())
    error = await round_trip(console, say(999_999))
    assert (error["code"], error["chat"]) == ("chat_not_found", 999_999)


# --- Reading -----------------------------------------------------------------------------------


async def test_resume_of_another_agents_chat_is_chat_not_found(sockets) -> None:
    theirs = await db(active_chat)()
    console, _ = await sockets.console(await db(AgentFactory)())
    error = await round_trip(console, {"type": "resume", "chat": theirs.pk, "after_seq": 0})
    assert (error["type"], error["code"], error["chat"]) == ("error", "chat_not_found", theirs.pk)


async def test_resume_of_a_queued_chat_and_of_ones_own(sockets) -> None:
    agent = await db(AgentFactory)()
    queued, mine = await db(start_chat)(), await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    for chat, last in ((queued, 2), (mine, 3)):
        await console.send_json_to({"type": "resume", "chat": chat.pk, "after_seq": 0})
        frames = await frames_until(console, lambda f: f["type"] == "resumed")
        assert [f["seq"] for f in frames[:-1]] == list(range(1, last + 1))
        assert frames[-1] == {"type": "resumed", "chat": chat.pk, "last_seq": last, "more": False}


# --- Typing --------------------------------------------------------------------------------------


async def test_the_agents_typing_reaches_the_customer_only(sockets) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    customer, _ = await sockets.customer(chat)

    await console.send_json_to({"type": "typing", "chat": chat.pk})
    assert await receive_type(customer, "typing") == {
        "type": "typing",
        "chat": chat.pk,
        "kind": "agent",
        "name": "Bruno",
    }
    # The agent's own console is not told: the customer's next message is the next thing it
    # gets, and a typing frame sent before it would have arrived first.
    await customer.send_json_to({"type": "message", "body": "ok", "client_msg_id": "c-1"})
    frames = await frames_until(console, lambda f: f["type"] == "message")
    assert [f["type"] for f in frames] == ["message"]


async def test_the_customers_typing_reaches_their_agent_only(sockets) -> None:
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    colleague_console, _ = await sockets.console(await db(AgentFactory)())
    console, _ = await sockets.console(agent)
    customer, _ = await sockets.customer(chat)

    await customer.send_json_to({"type": "typing"})
    assert await receive_type(console, "typing") == {
        "type": "typing",
        "chat": chat.pk,
        "kind": "customer",
        "name": None,
    }
    # Neither the customer nor another agent is told: the next frame each gets is a later one.
    await console.send_json_to(say(chat.pk, "Hi", "a-1"))
    frames = await frames_until(customer, lambda f: f["type"] == "message")
    assert [f["type"] for f in frames] == ["message"]
    # A new queued chat reaches every console: the chat, then its greeting and first question.
    new = await db(start_chat)()
    frames = await frames_until(colleague_console, lambda f: is_message(f, new.pk, seq=2))
    assert [(f["type"], f.get("chat", f.get("id")), f.get("seq")) for f in frames] == [
        ("chat", new.pk, None),
        ("message", new.pk, 1),
        ("message", new.pk, 2),
    ]


async def test_typing_into_a_chat_that_is_not_ones_own_is_forbidden(sockets) -> None:
    chat = await db(active_chat)()
    console, _ = await sockets.console(await db(AgentFactory)())
    error = await round_trip(console, {"type": "typing", "chat": chat.pk})
    assert (error["code"], error["chat"]) == ("forbidden", chat.pk)


# --- Closing -------------------------------------------------------------------------------------


async def test_the_agent_ends_the_chat_and_the_customer_is_told(sockets) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    customer, _ = await sockets.customer(chat)

    await console.send_json_to({"type": "close", "chat": chat.pk})
    state = await receive_type(console, "chat")
    assert (state["status"], state["closed_by"]) == ("closed", "agent")
    frames = await frames_until(customer, lambda f: f["type"] == "chat")
    assert [f["body"] for f in frames if f["type"] == "message"] == ["Chat ended by Bruno."]
    assert (frames[-1]["status"], frames[-1]["closed_by"]) == ("closed", "agent")

    error = await round_trip(console, say(chat.pk, "one more", "late-1"))
    assert error["code"] == "chat_closed"


def about(frame: dict) -> int | None:
    """The chat a frame is about: `id` for chat frames, `chat` for the others."""
    return frame.get("id") if frame["type"] == "chat" else frame.get("chat")


@pytest.mark.parametrize("closer", ["customer", "agent"])
async def test_another_agents_console_hears_nothing_of_a_chat_it_does_not_hold_closing(
    sockets, closer: str
) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    colleague = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent, email="ana@example.com")
    colleague_console, snapshot = await sockets.console(colleague)
    assert chat.pk not in [c["id"] for c in snapshot["chats"]]
    console, _ = await sockets.console(agent)
    customer, _ = await sockets.customer(chat)

    if closer == "customer":
        await customer.send_json_to({"type": "close"})
    else:
        await console.send_json_to({"type": "close", "chat": chat.pk})
    # Its agent hears of it (so the close has been published by now)...
    state = await receive_type(console, "chat")
    assert (state["id"], state["status"], state["closed_by"]) == (chat.pk, "closed", closer)
    assert (await reload(chat)).status == "closed"

    # ... the other console does not: the next thing it gets is a later chat reaching the queue,
    # and nothing at all about the closed one comes before it.
    later = await db(start_chat)(email="bob@example.com")
    frames = await frames_until(colleague_console, lambda f: is_message(f, later.pk, seq=2))
    assert [(f["type"], about(f), f.get("seq")) for f in frames] == [
        ("chat", later.pk, None),
        ("message", later.pk, 1),
        ("message", later.pk, 2),
    ]
    assert "ana@example.com" not in str(frames)
    await pong_next(colleague_console)  # and nothing else is waiting


async def test_an_agent_cannot_end_another_agents_chat(sockets) -> None:
    chat = await db(active_chat)()
    console, _ = await sockets.console(await db(AgentFactory)())
    error = await round_trip(console, {"type": "close", "chat": chat.pk})
    assert error["code"] == "forbidden"
    assert (await reload(chat)).status == "active"
