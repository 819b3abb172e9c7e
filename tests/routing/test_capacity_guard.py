"""No assignment puts an agent above their limit, including chats they take by hand."""

import pytest
from channels.testing import WebsocketCommunicator

from chat import services as chat_services
from chat.models import Chat, ChatEvent
from helpdesk.asgi import application
from routing.errors import AgentAtCapacity
from routing.models import AgentProfile
from tests.factories import AgentFactory, TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db


def test_taking_a_chat_beyond_the_limit_is_refused_and_changes_nothing() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=2, status=AgentProfile.Status.AWAY)
    for _ in range(2):
        chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)
    third = start_chat(topic=topic)

    with pytest.raises(AgentAtCapacity) as excinfo:
        chat_services.chat_assign(chat_id=third.pk, agent=agent, assigned_by=agent)

    assert excinfo.value.code == "over_capacity"
    third.refresh_from_db()
    assert (third.status, third.agent_id, third.last_seq) == (Chat.Status.QUEUED, None, 2)
    assert not ChatEvent.objects.filter(chat=third, kind=ChatEvent.Kind.ASSIGNED).exists()
    assert Chat.objects.filter(agent=agent, status=Chat.Status.ACTIVE).count() == 2


def test_a_closed_chat_frees_the_slot_for_a_take() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=1, status=AgentProfile.Status.AWAY)
    first = chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)
    second = start_chat(topic=topic)
    chat_services.chat_close(chat_id=first.pk, by=chat_services.Participant.agent(agent))

    taken = chat_services.chat_assign(chat_id=second.pk, agent=agent, assigned_by=agent)

    assert (taken.status, taken.agent_id) == (Chat.Status.ACTIVE, agent.pk)


def test_an_agent_without_a_profile_gets_the_default_limit_of_three() -> None:
    topic = TopicFactory()
    agent = AgentFactory()
    for _ in range(3):
        chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)
    with pytest.raises(AgentAtCapacity):
        chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)
    assert AgentProfile.objects.get(user=agent).max_chats == 3


@pytest.mark.django_db(transaction=True)
async def test_the_console_answers_a_take_beyond_the_limit_with_an_error_frame() -> None:
    from channels.db import database_sync_to_async

    @database_sync_to_async
    def arrange() -> tuple[object, int]:
        topic = TopicFactory()
        agent = make_agent(topics=[topic], max_chats=1, status=AgentProfile.Status.AWAY)
        chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)
        return agent, start_chat(topic=topic).pk

    agent, queued_id = await arrange()
    console = WebsocketCommunicator(
        application, "/ws/console/", headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    console.scope["user"] = agent
    assert (await console.connect())[0]
    assert (await console.receive_json_from())["type"] == "chats"

    await console.send_json_to({"type": "take", "chat": queued_id})
    frame = await console.receive_json_from()
    while frame["type"] != "error":
        frame = await console.receive_json_from()
    assert (frame["code"], frame["chat"]) == ("over_capacity", queued_id)

    # The socket still works and the chat is still waiting for someone else.
    await console.send_json_to({"type": "ping"})
    while (await console.receive_json_from())["type"] != "pong":
        pass
    status = await database_sync_to_async(
        lambda: Chat.objects.values_list("status", flat=True).get(pk=queued_id)
    )()
    assert status == Chat.Status.QUEUED
    await console.disconnect()
