"""An agent with no skills set handles every topic; agents with skills only theirs."""

import pytest

from chat.models import Chat
from routing import selectors, services
from routing.services import Assignment
from tests.factories import TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db


def agent_of(chat: Chat) -> object:
    return Chat.objects.select_related("agent").get(pk=chat.pk).agent


def test_an_agent_without_skills_gets_chats_of_every_topic() -> None:
    returns, billing = TopicFactory(), TopicFactory()
    generalist = make_agent(topics=[])
    chats = [start_chat(topic=returns), start_chat(topic=billing)]

    assert services.queue_drain() == [
        Assignment(chat_id=chats[0].pk, agent_id=generalist.pk),
        Assignment(chat_id=chats[1].pk, agent_id=generalist.pk),
    ]


def test_an_agent_with_skills_still_gets_only_their_topics() -> None:
    returns, billing = TopicFactory(), TopicFactory()
    specialist = make_agent(topics=[returns], max_chats=5)
    generalist = make_agent(topics=[], max_chats=5)
    billing_chat = start_chat(topic=billing)

    services.queue_drain()

    assert agent_of(billing_chat) == generalist
    assert Chat.objects.filter(agent=specialist).count() == 0


def test_a_full_generalist_does_not_hold_up_other_topics_skilled_agents() -> None:
    returns, billing = TopicFactory(), TopicFactory()
    generalist = make_agent(topics=[], max_chats=1)
    billing_agent = make_agent(topics=[billing])
    first, second = start_chat(topic=returns), start_chat(topic=returns)
    billing_chat = start_chat(topic=billing)

    services.queue_drain()

    assert agent_of(first) == generalist
    assert agent_of(second) is None  # nobody else handles returns
    assert agent_of(billing_chat) == billing_agent


def test_the_skill_rule_itself() -> None:
    assert selectors.agent_handles(set(), 7)
    assert selectors.agent_handles({7}, 7)
    assert not selectors.agent_handles({8}, 7)
