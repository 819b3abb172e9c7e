"""On PostgreSQL a server stores several sockets' messages at once (chat.db_hops): one slow
transaction no longer holds up every other socket of the process."""

import pytest

from tests.chat.consumers.wsutil import HeldMessages, db, receive_type
from tests.helpers import active_chat

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def test_a_message_is_stored_while_another_sockets_transaction_is_held(
    postgres: None, sockets, settings, monkeypatch
) -> None:
    assert settings.HELPDESK_DB_THREADS > 1
    first_chat, second_chat = await db(active_chat)(), await db(active_chat)()
    first, _ = await sockets.customer(first_chat)
    second, _ = await sockets.customer(second_chat)
    held = HeldMessages(monkeypatch)
    try:
        await first.send_json_to({"type": "message", "body": "slow", "client_msg_id": "held"})
        assert await held.wait_entered()

        await second.send_json_to({"type": "message", "body": "quick", "client_msg_id": "q"})
        ack = await receive_type(second, "ack")
        assert ack["client_msg_id"] == "q"
        assert not held.released.is_set()
    finally:
        held.release()
    assert (await receive_type(first, "ack"))["client_msg_id"] == "held"
