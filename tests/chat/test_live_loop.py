"""The whole loop over websockets: a customer and an agent chat, on the configured layer."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from helpdesk.asgi import application
from tests.factories import AgentFactory
from tests.helpers import start_chat, token_for

pytestmark = pytest.mark.django_db(transaction=True)


async def _receive_until(comm: WebsocketCommunicator, frame_type: str, timeout: float = 3) -> dict:
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            return frame


async def test_customer_and_agent_exchange_messages_both_ways() -> None:
    chat = await database_sync_to_async(start_chat)()
    agent = await database_sync_to_async(AgentFactory)()

    customer = WebsocketCommunicator(application, f"/ws/chat/{token_for(chat)}/")
    assert (await customer.connect())[0]
    state = await customer.receive_json_from()
    assert state["type"] == "chat" and state["status"] == "queued"

    console = WebsocketCommunicator(
        application, "/ws/console/", headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    console.scope["user"] = agent
    assert (await console.connect())[0]
    snapshot = await console.receive_json_from()
    assert snapshot["type"] == "chats"
    assert [c["id"] for c in snapshot["chats"]] == [chat.pk]

    await console.send_json_to({"type": "take", "chat": chat.pk})
    taken = await _receive_until(console, "chat")
    assert taken["status"] == "active" and taken["agent"]["id"] == agent.pk
    assert (await _receive_until(customer, "chat"))["agent"]["name"] == agent.first_name

    await console.send_json_to(
        {"type": "message", "chat": chat.pk, "body": "Hello Ana", "client_msg_id": "a-1"}
    )
    ack = await _receive_until(console, "ack")
    got = await _receive_until(customer, "message")
    while got["seq"] != ack["seq"]:
        got = await _receive_until(customer, "message")
    assert got["body"] == "Hello Ana" and got["kind"] == "agent"

    await customer.send_json_to({"type": "message", "body": "Thanks!", "client_msg_id": "c-1"})
    customer_ack = await _receive_until(customer, "ack")
    seen = await _receive_until(console, "message")
    while seen["seq"] != customer_ack["seq"]:
        seen = await _receive_until(console, "message")
    assert (seen["seq"], seen["body"]) == (customer_ack["seq"], "Thanks!")

    echo = await _receive_until(customer, "message")  # the customer's own message, to all tabs
    assert echo["seq"] == customer_ack["seq"]

    await customer.send_json_to({"type": "resume", "after_seq": 0})
    history = []
    frame = await customer.receive_json_from()
    while frame["type"] != "resumed":
        if frame["type"] == "message":
            history.append(frame["seq"])
        frame = await customer.receive_json_from()
    assert history == list(range(1, customer_ack["seq"] + 1))

    await customer.disconnect()
    await console.disconnect()
