"""Hostile and broken frames: each gets an error frame, nothing is stored, the socket lives on."""

import json

import pytest

from chat.models import MESSAGE_MAX_LENGTH
from chat.protocol import MAX_FRAME_BYTES
from tests.chat.consumers.wsutil import (
    bodies,
    db,
    message_count,
    receive,
    receive_type,
    send_raw,
)
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


def msg(**fields) -> str:
    return json.dumps({"type": "message", "body": "hi", "client_msg_id": "bad-1", **fields})


def without(field: str) -> str:
    frame = {"type": "message", "body": "hi", "client_msg_id": "bad-1"}
    del frame[field]
    return json.dumps(frame)


BAD_CUSTOMER_FRAMES = [
    # Not JSON at all.
    pytest.param("", "invalid_json", id="empty-text"),
    pytest.param("hello", "invalid_json", id="not-json"),
    pytest.param('{"type": "ping"', "invalid_json", id="truncated"),
    pytest.param("{'type': 'ping'}", "invalid_json", id="single-quotes"),
    pytest.param("NaN", "invalid_frame", id="nan-literal"),
    pytest.param("[" * 50_000, "invalid_json", id="deeply-nested-array"),
    pytest.param('{"a":' * 12_000, "invalid_json", id="deeply-nested-object"),
    pytest.param(
        '{"type": "message", "client_msg_id": "x", "body": ' + "[" * 25_000 + "]" * 25_000 + "}",
        "invalid_json",
        id="deeply-nested-field",
    ),
    # JSON, but not a frame.
    pytest.param("[]", "invalid_frame", id="array"),
    pytest.param('"message"', "invalid_frame", id="string"),
    pytest.param("42", "invalid_frame", id="number"),
    pytest.param("null", "invalid_frame", id="null"),
    pytest.param("{}", "invalid_frame", id="no-type"),
    pytest.param('{"type": 7}', "invalid_frame", id="type-not-string"),
    pytest.param('{"type": null}', "invalid_frame", id="type-null"),
    pytest.param('{"type": "shout"}', "unknown_type", id="unknown-type"),
    pytest.param('{"type": "chats"}', "unknown_type", id="server-frame-type"),
    pytest.param('{"type": "take"}', "forbidden", id="take-from-customer"),
    # message fields.
    pytest.param(without("body"), "invalid_frame", id="body-missing"),
    pytest.param(msg(body=None), "invalid_frame", id="body-null"),
    pytest.param(msg(body=5), "invalid_frame", id="body-int"),
    pytest.param(msg(body=["hi"]), "invalid_frame", id="body-list"),
    pytest.param(msg(body=""), "body_empty", id="body-empty"),
    pytest.param(msg(body=" \n\t "), "body_empty", id="body-whitespace"),
    pytest.param(msg(body="x" * (MESSAGE_MAX_LENGTH + 1)), "body_too_long", id="body-4001"),
    pytest.param(msg(body="a\u0000b"), "body_invalid", id="body-nul"),
    pytest.param(
        '{"type":"message","client_msg_id":"bad-1","body":"a\\ud800"}',
        "body_invalid",
        id="body-lone-surrogate",
    ),
    pytest.param(without("client_msg_id"), "invalid_frame", id="client-msg-id-missing"),
    pytest.param(msg(client_msg_id=""), "invalid_frame", id="client-msg-id-empty"),
    pytest.param(msg(client_msg_id="x" * 65), "invalid_frame", id="client-msg-id-65"),
    pytest.param(msg(client_msg_id="a b"), "invalid_frame", id="client-msg-id-space"),
    pytest.param(msg(client_msg_id="abc\n"), "invalid_frame", id="client-msg-id-newline"),
    pytest.param(msg(client_msg_id="<script>"), "invalid_frame", id="client-msg-id-html"),
    pytest.param(msg(client_msg_id=12), "invalid_frame", id="client-msg-id-int"),
    pytest.param(msg(chat="1"), "invalid_frame", id="chat-string"),
    pytest.param(msg(chat=True), "invalid_frame", id="chat-bool"),
    pytest.param(msg(chat=1.0), "invalid_frame", id="chat-float"),
    pytest.param(msg(chat=0), "invalid_frame", id="chat-zero"),
    pytest.param(msg(chat=-1), "invalid_frame", id="chat-negative"),
    pytest.param(msg(chat=None), "invalid_frame", id="chat-null"),
    # resume fields.
    pytest.param('{"type": "resume"}', "invalid_frame", id="after-seq-missing"),
    pytest.param('{"type": "resume", "after_seq": -1}', "invalid_frame", id="after-seq-negative"),
    pytest.param('{"type": "resume", "after_seq": true}', "invalid_frame", id="after-seq-bool"),
    pytest.param('{"type": "resume", "after_seq": 1.0}', "invalid_frame", id="after-seq-float"),
    pytest.param('{"type": "resume", "after_seq": 1.5}', "invalid_frame", id="after-seq-fraction"),
    pytest.param('{"type": "resume", "after_seq": "3"}', "invalid_frame", id="after-seq-string"),
    pytest.param('{"type": "resume", "after_seq": null}', "invalid_frame", id="after-seq-null"),
    pytest.param('{"type": "resume", "after_seq": 1e400}', "invalid_frame", id="after-seq-inf"),
    pytest.param(
        '{"type": "resume", "after_seq": ' + "9" * 5000 + "}",
        "invalid_json",
        id="after-seq-5000-digits",
    ),
    # Size.
    pytest.param(msg(body="x" * MAX_FRAME_BYTES), "frame_too_large", id="frame-over-64k"),
    pytest.param(msg(body="\u20ac" * 22_000), "frame_too_large", id="frame-over-64k-in-utf8"),
]


@pytest.fixture
async def customer(sockets):
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    return chat, comm


async def assert_still_works(comm, chat, before: int) -> None:
    """Nothing was stored by the refused frame, and the socket still takes a message."""
    assert await message_count(chat) == before
    await comm.send_json_to({"type": "message", "body": "still here", "client_msg_id": "ok-1"})
    ack = await receive_type(comm, "ack")
    assert ack["seq"] == before + 1
    assert await message_count(chat) == before + 1
    assert (await bodies(chat))[-1] == "still here"


@pytest.mark.parametrize(("text", "code"), BAD_CUSTOMER_FRAMES)
async def test_a_bad_frame_on_the_customer_socket(customer, text: str, code: str) -> None:
    chat, comm = customer
    before = await message_count(chat)
    await send_raw(comm, text)
    error = await receive(comm)
    assert error["type"] == "error" and error["code"] == code, error
    assert isinstance(error["detail"], str) and error["detail"]
    await assert_still_works(comm, chat, before)


async def test_a_binary_frame_is_refused(customer) -> None:
    chat, comm = customer
    before = await message_count(chat)
    await comm.send_to(bytes_data=msg().encode())
    error = await receive(comm)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    await assert_still_works(comm, chat, before)


async def test_a_frame_just_under_the_size_limit_is_parsed(customer) -> None:
    _, comm = customer
    padding = MAX_FRAME_BYTES - len(msg(pad=""))
    frame = msg(pad="x" * padding)
    assert len(frame.encode()) == MAX_FRAME_BYTES
    await send_raw(comm, frame)
    assert (await receive_type(comm, "ack"))["client_msg_id"] == "bad-1"


async def test_message_rule_errors_name_the_message(customer) -> None:
    _, comm = customer
    await send_raw(comm, msg(body="   ", client_msg_id="m-42"))
    error = await receive(comm)
    assert (error["code"], error["client_msg_id"]) == ("body_empty", "m-42")


async def test_a_body_of_exactly_4000_characters_is_accepted(customer) -> None:
    chat, comm = customer
    body = "\U0001f600" * MESSAGE_MAX_LENGTH  # 4000 characters, 16000 bytes
    await comm.send_json_to({"type": "message", "body": body, "client_msg_id": "max-1"})
    assert (await receive_type(comm, "ack"))["seq"] == 3
    assert (await bodies(chat))[-1] == body


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(document.cookie)</script>",
        '<img src=x onerror="alert(1)">',
        "</script><script>alert(1)</script>",
        "javascript:alert(1)",
        "{{ 7*7 }} {% debug %} ${7*7}",
        "\u2028\u2029 line separators",
        "emoji \U0001f600 and \u202e bidi",
        '"quotes" \\ backslash',
    ],
)
async def test_html_and_script_bodies_are_stored_and_delivered_verbatim(sockets, body: str) -> None:
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    customer, _ = await sockets.customer(chat)
    console, _ = await sockets.console(agent)

    await customer.send_json_to({"type": "message", "body": body, "client_msg_id": "x-1"})

    assert (await receive_type(customer, "message"))["body"] == body
    assert (await receive_type(console, "message"))["body"] == body
    assert (await bodies(chat))[-1] == body
    await console.send_json_to({"type": "resume", "chat": chat.pk, "after_seq": 3})
    assert (await receive_type(console, "message"))["body"] == body


# --- The console ----------------------------------------------------------------------------------

BAD_CONSOLE_FRAMES = [
    pytest.param({"type": "message", "body": "hi", "client_msg_id": "c"}, id="message-no-chat"),
    pytest.param({"type": "take"}, id="take-no-chat"),
    pytest.param({"type": "take", "chat": "1"}, id="take-chat-string"),
    pytest.param({"type": "take", "chat": True}, id="take-chat-bool"),
    pytest.param({"type": "take", "chat": 1.0}, id="take-chat-float"),
    pytest.param({"type": "typing"}, id="typing-no-chat"),
    pytest.param({"type": "close", "chat": -5}, id="close-chat-negative"),
    pytest.param({"type": "resume", "after_seq": 0}, id="resume-no-chat"),
    pytest.param({"type": "resume", "chat": 1, "after_seq": -1}, id="resume-negative"),
    pytest.param({"type": "resume", "chat": 1, "after_seq": False}, id="resume-bool"),
]


@pytest.mark.parametrize("frame", BAD_CONSOLE_FRAMES)
async def test_a_bad_frame_on_the_console(sockets, frame: dict) -> None:
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    before = await message_count()

    await console.send_json_to(frame)
    error = await receive(console)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")

    assert await message_count() == before
    assert (await db(lambda: type(chat).objects.get(pk=chat.pk).status)()) == "active"
    await console.send_json_to(
        {"type": "message", "chat": chat.pk, "body": "still here", "client_msg_id": "ok-1"}
    )
    assert (await receive_type(console, "ack"))["seq"] == 4


@pytest.mark.parametrize(
    "text", ["nope", "[" * 50_000, "x" * (MAX_FRAME_BYTES + 1)], ids=["junk", "nested", "64k"]
)
async def test_the_console_survives_junk_too(sockets, text: str) -> None:
    console, _ = await sockets.console(await db(AgentFactory)())
    await send_raw(console, text)
    assert (await receive(console))["type"] == "error"
    await console.send_json_to({"type": "ping"})
    assert await receive(console) == {"type": "pong"}


async def test_huge_chat_ids_are_simply_not_found(sockets) -> None:
    console, _ = await sockets.console(await db(AgentFactory)())
    for chat_id in (2**31, 2**63, 2**70):
        await console.send_json_to({"type": "take", "chat": chat_id})
        error = await receive(console)
        assert (error["code"], error["chat"]) == ("chat_not_found", chat_id)
