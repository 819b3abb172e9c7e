"""Never an invitation when no agent of the topic is available, checked by the server when the
widget asks: available is what the router needs to assign at once (online, a live console,
an active agent, room below max_chats, the topic as a skill or no skills)."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from chat.models import Chat
from helpdesk.roles import AGENTS_GROUP
from routing.invitation_selectors import available_topic_ids
from routing.invitations import AVAILABILITY_RECHECK_SECONDS
from routing.models import AgentProfile, ConsoleConnection
from tests.factories import ChatFactory, InvitationRuleFactory, TopicFactory
from tests.routing.conftest import make_agent
from tests.routing.invitation_support import check, fresh_throttles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    yield from fresh_throttles()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def topic() -> Any:
    return TopicFactory(slug="returns")


@pytest.fixture
def rule(topic: Any) -> Any:
    return InvitationRuleFactory(topic=topic)


def invited(api: APIClient) -> bool:
    answer = check(api).json()
    return answer["invitation"] is not None


def test_an_agent_of_the_topic_online_with_room_makes_it_available(api, topic, rule) -> None:
    make_agent(topics=[topic])
    answer = check(api).json()
    assert answer["invitation"]["rule"] == rule.pk
    assert answer["invitation"]["topic"] == {"slug": "returns", "name": topic.name}


def test_no_agent_at_all_no_invitation_and_ask_again_later(api, rule) -> None:
    answer = check(api).json()
    assert answer == {"invitation": None, "check_again_in": AVAILABILITY_RECHECK_SECONDS}


@pytest.mark.parametrize("status", [AgentProfile.Status.AWAY, AgentProfile.Status.OFFLINE])
def test_an_agent_who_is_not_online_does_not_count(api, topic, rule, status: str) -> None:
    make_agent(topics=[topic], status=status)
    assert not invited(api)


def test_an_agent_without_an_open_console_does_not_count(api, topic, rule) -> None:
    make_agent(topics=[topic], present=False)
    assert not invited(api)


def test_a_console_not_seen_for_longer_than_the_ttl_does_not_count(api, topic, rule) -> None:
    agent = make_agent(topics=[topic])
    ConsoleConnection.objects.filter(agent=agent).update(
        last_seen_at=timezone.now() - timedelta(seconds=61)
    )
    assert not invited(api)


def test_an_agent_at_their_limit_does_not_count(api, topic, rule) -> None:
    agent = make_agent(topics=[topic], max_chats=1)
    ChatFactory(topic=topic, agent=agent, status=Chat.Status.ACTIVE)
    assert not invited(api)


def test_an_agent_of_another_topic_does_not_count(api, topic, rule) -> None:
    make_agent(topics=[TopicFactory()])
    assert not invited(api)


def test_a_generalist_handles_every_topic(api, topic, rule) -> None:
    make_agent(topics=[])
    assert invited(api)


def test_a_deactivated_user_or_one_no_longer_an_agent_does_not_count(api, topic, rule) -> None:
    gone = make_agent(topics=[topic], is_active=False)
    assert not invited(api)
    gone.is_active = True
    gone.save()
    assert invited(api)
    gone.groups.remove(Group.objects.get(name=AGENTS_GROUP))
    assert not invited(api)


def test_an_inactive_rule_or_topic_invites_nobody(api, topic, rule) -> None:
    make_agent(topics=[topic])
    rule.is_active = False
    rule.save()
    assert not invited(api)
    rule.is_active = True
    rule.save()
    topic.is_active = False
    topic.save()
    assert not invited(api)


def test_the_first_rule_whose_topic_is_staffed_invites(api) -> None:
    unstaffed, staffed_topic = TopicFactory(), TopicFactory()
    InvitationRuleFactory(topic=unstaffed, priority=9)
    second = InvitationRuleFactory(topic=staffed_topic, priority=1)
    make_agent(topics=[staffed_topic])
    assert check(api).json()["invitation"]["rule"] == second.pk


def test_available_topics_cost_one_query_whatever_the_agents(django_assert_num_queries) -> None:
    topics = [TopicFactory() for _ in range(3)]
    for topic in topics[:2]:
        for _ in range(3):
            make_agent(topics=[topic])
    with django_assert_num_queries(1):
        found = available_topic_ids(topic_ids={t.pk for t in topics})
    assert found == {topics[0].pk, topics[1].pk}


def test_no_topics_asked_no_query(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        assert available_topic_ids(topic_ids=set()) == set()
