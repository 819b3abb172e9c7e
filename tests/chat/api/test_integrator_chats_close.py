"""POST /api/v1/chats/<id>/close/: the console's close, through the same service."""

from collections.abc import Iterator
from typing import Any

import pytest

from chat.models import Chat, Message
from tests.api_support import assert_error, client_for, fresh_cache
from tests.factories import AgentFactory, SupervisorFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db


def url(chat: Chat) -> str:
    return f"/api/v1/chats/{chat.pk}/close/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


def test_the_chats_agent_closes_it_and_the_customer_is_told() -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent)
    response = client_for(agent, scope="write").post(url(chat))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "closed"
    assert data["closed_by"] == "agent"
    assert data["closed_at"] is not None
    last = Message.objects.filter(chat=chat).order_by("-seq").first()
    assert last is not None and last.body == "Chat ended by Bruno."
    assert data["last_seq"] == last.seq


def test_a_supervisor_closes_any_chat_even_a_queued_one() -> None:
    client = client_for(SupervisorFactory(), scope="write")
    for chat in (active_chat(), start_chat()):
        assert client.post(url(chat)).json()["status"] == "closed"


def test_closing_twice_is_409_chat_closed() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    client = client_for(agent, scope="write")
    assert client.post(url(chat)).status_code == 200
    assert_error(client.post(url(chat)), 409, "chat_closed")


def test_an_agent_cannot_close_what_is_not_theirs() -> None:
    agent = AgentFactory()
    client = client_for(agent, scope="write")
    theirs = active_chat(agent=AgentFactory())
    assert_error(client.post(url(theirs)), 404, "chat_not_found")
    # Readable (the queue) but not theirs to close.
    queued = start_chat()
    assert_error(client.post(url(queued)), 403, "forbidden")
    assert set(Chat.objects.values_list("status", flat=True)) == {"active", "queued"}


def test_a_read_token_closes_nothing() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    assert_error(client_for(agent, scope="read").post(url(chat)), 403, "read_only_token")
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.ACTIVE
