"""On PostgreSQL a server stores several sockets' messages at once (chat.db_hops): one slow
transaction no longer holds up every other socket of the process."""

import asyncio
import threading

import pytest

from chat import services
from tests.chat.consumers.wsutil import db, receive_type
from tests.helpers import active_chat

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def test_a_message_is_stored_while_another_sockets_transaction_is_held(
    postgres: None, sockets, settings, monkeypatch
) -> None:
    assert settings.HELPDESK_DB_THREADS > 1
    first_chat, second_chat = await db(active_chat)(), await db(active_chat)()
    first, _ = await sockets.customer(first_chat)
    second, _ = await sockets.customer(second_chat)
    entered, release = threading.Event(), threading.Event()
    post = services.messages_post

    def held_post(posts):  # type: ignore[no-untyped-def]
        if any(one.client_msg_id == "held" for one in posts):
            entered.set()
            release.wait(10)
        return post(posts)

    monkeypatch.setattr(services, "messages_post", held_post)
    try:
        await first.send_json_to({"type": "message", "body": "slow", "client_msg_id": "held"})
        assert await asyncio.to_thread(entered.wait, 5)

        await second.send_json_to({"type": "message", "body": "quick", "client_msg_id": "q"})
        ack = await receive_type(second, "ack")
        assert ack["client_msg_id"] == "q"
        assert not release.is_set()
    finally:
        release.set()
    assert (await receive_type(first, "ack"))["client_msg_id"] == "held"
