"""End to end through chat's services, with real commits: routing reacts to chat's events."""

import pytest

from chat import services as chat_services
from chat.models import Chat
from chat.services import Participant
from routing import services
from routing.models import AgentProfile
from tests.factories import TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


def owner(chat: Chat) -> int | None:
    return Chat.objects.values_list("agent_id", flat=True).get(pk=chat.pk)


def test_a_started_chat_reaches_the_present_online_agent_with_the_skill(published) -> None:
    returns, billing = TopicFactory(), TopicFactory()
    returns_agent = make_agent(topics=[returns])
    billing_agent = make_agent(topics=[billing])

    chat = chat_services.chat_start(topic=returns, name="Ana Lima", first_message="Hi")

    assert owner(chat) == returns_agent.pk
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.ACTIVE
    # The staff frame (it has a `preview`; the customer's does not) leaves the queue of the
    # topic and reaches the agent's own consoles.
    assert [
        groups
        for groups, f in published.calls
        if f["type"] == "chat" and f["id"] == chat.pk and f["status"] == "active" and "preview" in f
    ] == [[f"queue.{returns.pk}", "queue.all", f"agent.{returns_agent.pk}", f"watch.{chat.pk}"]]
    # The other topic's queue never hears of it.
    assert published.frames(group=f"queue.{billing.pk}") == []
    assert not Chat.objects.filter(agent=billing_agent).exists()


def test_never_over_the_limit_and_a_closed_chat_lets_the_next_one_in(published) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=2)
    chats = [start_chat(topic=topic) for _ in range(4)]

    assert [owner(c) for c in chats] == [agent.pk, agent.pk, None, None]

    chat_services.chat_close(chat_id=chats[0].pk, by=Participant.agent(agent))

    # The longest-waiting of the two flows in; the other still waits.
    assert [owner(c) for c in chats[1:]] == [agent.pk, agent.pk, None]
    assert Chat.objects.filter(agent=agent, status=Chat.Status.ACTIVE).count() == 2


def test_a_customer_closing_their_chat_frees_the_slot_too(published) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=1)
    first, second = start_chat(topic=topic), start_chat(topic=topic)

    chat_services.chat_close(chat_id=first.pk, by=Participant.customer())

    assert owner(second) == agent.pk


def test_waiting_chats_flow_to_an_agent_who_comes_online(published) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], status=AgentProfile.Status.AWAY, max_chats=2)
    chats = [start_chat(topic=topic) for _ in range(3)]
    assert [owner(c) for c in chats] == [None, None, None]

    services.agent_status_set(agent=agent, status=AgentProfile.Status.ONLINE)

    assert [owner(c) for c in chats] == [agent.pk, agent.pk, None]


def test_waiting_chats_flow_to_an_online_agent_who_opens_a_console(published) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], present=False)
    chat = start_chat(topic=topic)
    assert owner(chat) is None

    chat_services.console_opened(agent=agent, channel_name="tab-1")

    assert owner(chat) == agent.pk
