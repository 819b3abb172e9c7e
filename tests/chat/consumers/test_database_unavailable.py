"""While the database is down, a frame is answered with `unavailable` (docs/protocol.md), the
socket stays open, and the resent frame works once the database is back."""

import pytest
from django.db import OperationalError

from tests.chat.consumers.wsutil import (
    db,
    message_count,
    messages_post_failing_once,
    pong_next,
    receive_type,
    round_trip,
)
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_frame_during_a_database_outage_is_unavailable_and_the_retry_is_stored_once(
    sockets, monkeypatch, caplog
) -> None:
    chat = await db(start_chat)()
    comm, _ = await sockets.customer(chat)
    messages_post_failing_once(
        monkeypatch, OperationalError("connection to server at 127.0.0.1 failed")
    )

    frame = {"type": "message", "body": "Hello", "client_msg_id": "c-1"}
    error = await round_trip(comm, frame)
    assert (error["type"], error["code"], error["client_msg_id"]) == ("error", "unavailable", "c-1")
    assert "127.0.0.1" not in error["detail"]  # no internals leak to the client
    assert "database unavailable" in caplog.text
    await pong_next(comm)  # the socket lives on
    assert await message_count(chat) == 2

    await comm.send_json_to(frame)
    assert (await receive_type(comm, "ack"))["seq"] == 3
    assert await message_count(chat) == 3
