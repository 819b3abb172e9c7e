"""Overload: past HELPDESK_WS_BUSY_FRAMES frames in hand, a process refuses new messages with
`busy` (nothing stored; the client resends them) and drops typing; resumes still go through."""

import pytest

from tests.chat.consumers.wsutil import HeldMessages, db, message_count, receive, receive_type
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db(transaction=True)


def message(client_msg_id: str, body: str = "Where is my parcel?") -> dict:
    return {"type": "message", "body": body, "client_msg_id": client_msg_id}


async def test_a_busy_server_refuses_messages_drops_typing_and_still_resumes(
    sockets, settings
) -> None:
    chat = await db(active_chat)()
    customer, _ = await sockets.customer(chat)
    settings.HELPDESK_WS_BUSY_FRAMES = 0
    before = await message_count(chat)

    await customer.send_json_to(message("c-1"))
    error = await receive(customer)
    assert error == {
        "type": "error",
        "code": "busy",
        "detail": "The server is busy; send this message again in a moment.",
        "client_msg_id": "c-1",
    }
    assert await message_count(chat) == before

    await customer.send_json_to({"type": "typing"})
    await customer.send_json_to({"type": "resume", "after_seq": 0})
    # No answer to the typing frame: the replay comes next.
    first = await receive(customer)
    assert (first["type"], first["seq"]) == ("message", 1)
    resumed = await receive_type(customer, "resumed")
    assert resumed["last_seq"] == before

    settings.HELPDESK_WS_BUSY_FRAMES = 1000
    await customer.send_json_to(message("c-1"))
    ack = await receive_type(customer, "ack")
    assert (ack["client_msg_id"], ack["seq"]) == ("c-1", before + 1)
    assert await message_count(chat) == before + 1


async def test_only_frames_in_hand_count(sockets, settings, monkeypatch) -> None:
    """One message held in the database thread fills a backlog of one: another socket's
    message is refused until it is done, then accepted."""
    settings.HELPDESK_WS_BUSY_FRAMES = 1
    first_chat, second_chat = await db(active_chat)(), await db(active_chat)()
    first, _ = await sockets.customer(first_chat)
    second, _ = await sockets.customer(second_chat)
    held = HeldMessages(monkeypatch, hold=5)
    await first.send_json_to(message("held"))
    assert await held.wait_entered()

    await second.send_json_to(message("c-2"))
    assert (await receive_type(second, "error"))["code"] == "busy"

    held.release()
    assert (await receive_type(first, "ack"))["client_msg_id"] == "held"
    await second.send_json_to(message("c-2"))
    assert (await receive_type(second, "ack"))["client_msg_id"] == "c-2"
