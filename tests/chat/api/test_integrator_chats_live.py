"""What an integrator does through the API, the websockets see live: the same services publish
after commit to the customer's widget and the consoles."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api_support import client_for, fresh_cache
from tests.chat.consumers.wsutil import db, frames_until, receive_type
from tests.factories import AgentFactory, SupervisorFactory, TopicFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


async def test_a_message_posted_through_the_api_reaches_the_customer_and_the_console(
    sockets: Any,
) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    chat = await db(active_chat)(agent=agent)
    customer, _ = await sockets.customer(chat)
    console, _ = await sockets.console(agent)
    client = await db(client_for)(agent, scope="write")

    response = await db(client.post)(
        f"/api/v1/chats/{chat.pk}/messages/", {"body": "On its way!", "client_msg_id": "crm-1"}
    )

    assert response.status_code == 201, response.content
    seq = response.json()["seq"]
    for socket in (customer, console):
        frame = await receive_type(socket, "message")
        assert (frame["chat"], frame["seq"], frame["kind"]) == (chat.pk, seq, "agent")
        assert frame["body"] == "On its way!"
        assert frame["client_msg_id"] == "crm-1"
    # The customer sees the agent by first name only, as for a message from the console.
    assert frame["author"] == "Bruno"


async def test_a_chat_started_and_closed_through_the_api_shows_live(sockets: Any) -> None:
    agent = await db(AgentFactory)()
    topic = await db(TopicFactory)(slug="returns")
    console, _ = await sockets.console(agent)
    client = await db(client_for)(agent, scope="write")

    started = await db(client.post)(
        "/api/v1/chats/", {"topic": "returns", "name": "Ana", "message": "Hi"}
    )
    assert started.status_code == 201, started.content
    data = started.json()
    queued = await receive_type(console, "chat")
    assert (queued["id"], queued["status"]) == (data["id"], "queued")
    assert queued["topic"]["slug"] == topic.slug

    # The customer opens the widget with the token the API handed over.
    customer, first = await sockets.customer(token=data["customer_access"]["token"])
    assert first["id"] == data["id"]

    # A supervisor's token ends it: the customer's widget is told at once.
    lead = await db(client_for)(await db(SupervisorFactory)(), scope="write")
    response = await db(lead.post)(f"/api/v1/chats/{data['id']}/close/")
    assert response.status_code == 200, response.content
    frames = await frames_until(customer, lambda f: f["type"] == "chat")
    assert frames[-1]["status"] == "closed"
    assert frames[0]["type"] == "message" and frames[0]["body"].startswith("Chat ended")
