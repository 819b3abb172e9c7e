"""The customer's `leave_message` frame, over a real socket: a queued chat becomes a helpdesk
Ticket linked to it, the chat closes as `left_message`, and the socket gets a `ticket` frame
with the reference. Only the socket's own chat (the token's), only while it is queued, once."""

from collections.abc import AsyncIterator

import pytest
from django.core import mail

from chat.models import Chat
from helpdesk.models import Ticket
from tests.chat.consumers.wsutil import (
    Sockets,
    db,
    pong_next,
    receive_type,
    reload,
    round_trip,
)
from tests.factories import TopicFactory
from tests.helpers import active_chat, start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db(transaction=True)

BODY = "Please call me back about my order 1234."


@pytest.fixture(autouse=True)
def _eager_mail(settings) -> None:
    # The confirmation email runs inline and lands in django's locmem outbox.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    yield opened
    await opened.close_all()


@db
def tickets() -> list[Ticket]:
    return list(Ticket.objects.select_related("customer").order_by("pk"))


@db
def queued_chat(email: str = "ana@example.com") -> Chat:
    return start_chat(topic=TopicFactory(), email=email)


async def leave(comm, **fields) -> dict:
    return await round_trip(comm, {"type": "leave_message", **fields})


async def test_a_queued_customer_leaves_a_message_and_gets_its_reference(sockets) -> None:
    chat = await queued_chat()
    comm, _ = await sockets.customer(chat)

    reply = await leave(comm, body=BODY, email="Ana.Other@Example.com")

    [ticket] = await tickets()
    assert reply == {"type": "ticket", "chat": chat.pk, "reference": ticket.reference}
    assert ticket.chat_id == chat.pk
    assert ticket.body == BODY
    assert ticket.email == "ana.other@example.com"
    assert ticket.customer_id == chat.customer_id
    assert ticket.topic_id == chat.topic_id
    closed = await reload(chat)
    assert closed.status == Chat.Status.CLOSED
    assert closed.close_reason == Chat.CloseReason.LEFT_MESSAGE
    assert closed.closed_by == Chat.ClosedBy.CUSTOMER
    # The customer's socket hears the close like any other.
    frame = await receive_type(comm, "chat")
    assert (frame["id"], frame["status"], frame["closed_by"]) == (chat.pk, "closed", "customer")
    # And the confirmation email with the reference went out.
    assert [m.to for m in mail.outbox] == [["ana.other@example.com"]]
    assert ticket.reference in mail.outbox[0].subject


async def test_without_an_email_in_the_frame_the_chats_address_is_used(sockets) -> None:
    chat = await queued_chat(email="bea@example.com")
    comm, _ = await sockets.customer(chat)
    assert (await leave(comm, body=BODY))["type"] == "ticket"
    assert (await leave_and_get_email()) == "bea@example.com"


@db
def leave_and_get_email() -> str:
    return Ticket.objects.get().email


@pytest.mark.parametrize("email", [None, "", "   "])
async def test_no_email_anywhere_is_refused_and_the_chat_stays_queued(sockets, email) -> None:
    chat = await queued_chat(email="")
    comm, _ = await sockets.customer(chat)

    fields = {"body": BODY} if email is None else {"body": BODY, "email": email}
    error = await leave(comm, **fields)

    assert (error["type"], error["code"]) == ("error", "email_invalid"), error
    assert await tickets() == []
    assert (await reload(chat)).status == Chat.Status.QUEUED
    await pong_next(comm)


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "ana@example.com\r\nBcc: all@example.com", "x" * 300 + "@example.com"],
    ids=["no-at", "header-injection", "oversize"],
)
async def test_a_bad_email_is_refused_even_if_the_chat_has_a_good_one(sockets, email) -> None:
    chat = await queued_chat(email="ana@example.com")
    comm, _ = await sockets.customer(chat)
    error = await leave(comm, body=BODY, email=email)
    assert (error["type"], error["code"]) == ("error", "email_invalid")
    assert await tickets() == []
    assert (await reload(chat)).status == Chat.Status.QUEUED


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("x" * 4001, "body_too_long"),
        ("", "body_empty"),
        (" \n ", "body_empty"),
        ("a\x00b", "body_invalid"),
    ],
    ids=["oversize", "empty", "blanks", "nul"],
)
async def test_the_message_rules_apply(sockets, body: str, code: str) -> None:
    chat = await queued_chat()
    comm, _ = await sockets.customer(chat)
    error = await leave(comm, body=body)
    assert (error["type"], error["code"]) == ("error", code)
    assert await tickets() == []
    assert (await reload(chat)).status == Chat.Status.QUEUED


@pytest.mark.parametrize(
    "fields",
    [{}, {"body": 42}, {"body": ["a"]}, {"body": None}, {"body": BODY, "email": 7}],
    ids=["no-body", "int-body", "list-body", "null-body", "int-email"],
)
async def test_wrong_types_are_invalid_frames(sockets, fields) -> None:
    chat = await queued_chat()
    comm, _ = await sockets.customer(chat)
    error = await leave(comm, **fields)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    assert await tickets() == []


async def test_html_is_stored_as_text(sockets) -> None:
    chat = await queued_chat()
    comm, _ = await sockets.customer(chat)
    body = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>"
    assert (await leave(comm, body=body))["type"] == "ticket"
    [ticket] = await tickets()
    assert ticket.body == body


async def test_an_active_chat_cannot_leave_a_message(sockets) -> None:
    chat = await db(active_chat)()
    comm, _ = await sockets.customer(chat)
    error = await leave(comm, body=BODY)
    assert (error["type"], error["code"]) == ("error", "not_queued")
    assert await tickets() == []
    assert (await reload(chat)).status == Chat.Status.ACTIVE


async def test_a_double_submit_leaves_one_ticket_and_a_clear_error(sockets) -> None:
    chat = await queued_chat()
    comm, _ = await sockets.customer(chat)
    await comm.send_json_to({"type": "leave_message", "body": BODY})
    await comm.send_json_to({"type": "leave_message", "body": BODY})

    first = await receive_type(comm, "ticket")
    second = await receive_type(comm, "error")

    assert second["code"] == "message_already_left"
    assert first["reference"] in second["detail"]
    assert len(await tickets()) == 1


async def test_a_closed_chat_without_a_message_says_it_is_closed(sockets) -> None:
    chat = await queued_chat()
    comm, _ = await sockets.customer(chat)
    await comm.send_json_to({"type": "close"})
    await receive_type(comm, "chat")
    error = await leave(comm, body=BODY)
    assert (error["type"], error["code"]) == ("error", "chat_closed")
    assert await tickets() == []


async def test_another_customers_chat_is_out_of_reach(sockets) -> None:
    mine, theirs = await queued_chat(), await queued_chat()
    comm, _ = await sockets.customer(mine)

    error = await leave(comm, chat=theirs.pk, body=BODY)

    assert (error["type"], error["code"]) == ("error", "chat_not_found")
    assert await tickets() == []
    assert (await reload(theirs)).status == Chat.Status.QUEUED
    assert (await reload(mine)).status == Chat.Status.QUEUED


async def test_a_customer_naming_their_own_chat_is_fine(sockets) -> None:
    chat = await queued_chat()
    comm, _ = await sockets.customer(chat)
    assert (await leave(comm, chat=chat.pk, body=BODY))["type"] == "ticket"


async def test_agents_have_no_such_frame(sockets) -> None:
    agent = await db(make_agent)()
    comm, _ = await sockets.console(agent)
    error = await round_trip(comm, {"type": "leave_message", "chat": 1, "body": BODY})
    assert (error["type"], error["code"]) == ("error", "unknown_type")


async def test_a_customer_who_stays_keeps_their_place(sockets) -> None:
    topic = await db(TopicFactory)()
    first = await db(start_chat)(topic=topic)
    second = await db(start_chat)(topic=topic)
    third = await db(start_chat)(topic=topic)
    first_comm, _ = await sockets.customer(first)
    third_comm, _ = await sockets.customer(third)

    # Nobody can answer: everyone is offered to leave a message.
    offer = await round_trip(first_comm, {"type": "queue_status"})
    assert (offer["position"], offer["message_offered"]) == (1, True)

    # The second leaves one; the first, who ignored the offer, is still first.
    second_comm, _ = await sockets.customer(second)
    assert (await leave(second_comm, body=BODY))["type"] == "ticket"
    standing = await round_trip(first_comm, {"type": "queue_status"})
    assert (standing["position"], standing["message_offered"]) == (1, True)
    assert (await reload(first)).status == Chat.Status.QUEUED
    # The third moved up.
    assert (await receive_type(third_comm, "queue"))["position"] in {2, 3}
    assert (await round_trip(third_comm, {"type": "queue_status"}))["position"] == 2
