"""responses_for: what an agent sees for a topic, ranked by their own use, in one query."""

import datetime
from typing import Any

import pytest
from django.utils import timezone

from cannedresponses.errors import CannedResponseNotFound
from cannedresponses.selectors import (
    response_get_for_agent,
    responses_for,
    responses_for_topics,
)
from tests.factories import (
    AgentFactory,
    CannedResponseFactory,
    CannedResponseUseFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def shortcuts(rows: list[Any]) -> list[str]:
    return [row.shortcut for row in rows]


def test_shared_topic_and_own_personal_never_another_agents(agent: Any) -> None:
    returns, billing = TopicFactory(), TopicFactory()
    CannedResponseFactory(shortcut="shared")
    CannedResponseFactory(shortcut="returns", scope="topic", topic=returns)
    CannedResponseFactory(shortcut="billing", scope="topic", topic=billing)
    CannedResponseFactory(shortcut="mine", personal=True, owner=agent)
    CannedResponseFactory(shortcut="theirs", personal=True, owner=AgentFactory())
    CannedResponseFactory(shortcut="off", is_active=False)
    CannedResponseFactory(shortcut="mine-off", personal=True, owner=agent, is_active=False)

    assert set(shortcuts(responses_for(agent=agent, topic=returns))) == {
        "shared",
        "returns",
        "mine",
    }
    assert set(shortcuts(responses_for(agent=agent, topic=None))) == {"shared", "mine"}


def test_a_supervisor_does_not_see_agents_personal_responses_either(lead: Any) -> None:
    CannedResponseFactory(shortcut="theirs", personal=True)
    assert responses_for(agent=lead, topic=None) == []
    assert responses_for_topics(agent=lead, topic_ids=None) == []


def test_outside_a_chat_the_topics_given_are_listed(agent: Any) -> None:
    returns, billing = TopicFactory(), TopicFactory()
    CannedResponseFactory(shortcut="returns", scope="topic", topic=returns)
    CannedResponseFactory(shortcut="billing", scope="topic", topic=billing)
    CannedResponseFactory(shortcut="shared")
    assert set(shortcuts(responses_for_topics(agent=agent, topic_ids=None))) == {
        "returns",
        "billing",
        "shared",
    }
    assert set(shortcuts(responses_for_topics(agent=agent, topic_ids={returns.pk}))) == {
        "returns",
        "shared",
    }
    assert shortcuts(responses_for_topics(agent=agent, topic_ids=set())) == ["shared"]


def test_ranked_by_the_agents_own_use_then_last_use_then_title(agent: Any) -> None:
    now = timezone.now()
    other = AgentFactory()
    never_b = CannedResponseFactory(shortcut="never-b", title="b never")
    never_a = CannedResponseFactory(shortcut="never-a", title="A never")
    twice_old = CannedResponseFactory(shortcut="twice-old")
    twice_new = CannedResponseFactory(shortcut="twice-new")
    often = CannedResponseFactory(shortcut="often")
    popular_elsewhere = CannedResponseFactory(shortcut="popular", title="c popular")
    CannedResponseUseFactory(response=often, agent=agent, count=9)
    CannedResponseUseFactory(
        response=twice_old, agent=agent, count=2, last_used_at=now - datetime.timedelta(days=2)
    )
    CannedResponseUseFactory(response=twice_new, agent=agent, count=2, last_used_at=now)
    # Another agent's habits do not change this agent's order.
    CannedResponseUseFactory(response=popular_elsewhere, agent=other, count=50)
    CannedResponseUseFactory(response=never_b, agent=other, count=20)

    rows = responses_for(agent=agent, topic=None)
    # Unused ones by title, ignoring case: "A never", "b never", "c popular".
    assert shortcuts(rows) == ["often", "twice-new", "twice-old", "never-a", "never-b", "popular"]
    assert [row.use_count for row in rows] == [9, 2, 2, 0, 0, 0]
    assert rows[3] == never_a


@pytest.mark.parametrize("count", [1, 40])
def test_one_query_whatever_the_number_of_responses(
    agent: Any, count: int, django_assert_num_queries: Any
) -> None:
    topic = TopicFactory()
    for index in range(count):
        response = CannedResponseFactory(
            scope=("shared", "topic", "personal")[index % 3],
            topic=topic if index % 3 == 1 else None,
            owner=agent if index % 3 == 2 else None,
        )
        CannedResponseUseFactory(response=response, agent=agent, count=index)
    with django_assert_num_queries(1):
        rows = responses_for(agent=agent, topic=topic)
        # Reading what the API shows costs nothing more.
        assert all((row.topic is None or row.topic.name) and row.use_count >= 0 for row in rows)
    assert len(rows) == count
    with django_assert_num_queries(1):
        responses_for_topics(agent=agent, topic_ids=None)


def test_the_list_is_bounded(agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cannedresponses.selectors.LIST_LIMIT", 3)
    CannedResponseFactory.create_batch(5)
    assert len(responses_for(agent=agent, topic=None)) == 3


def test_get_for_agent_hides_other_agents_personal_responses(agent: Any, lead: Any) -> None:
    theirs = CannedResponseFactory(personal=True)
    mine_off = CannedResponseFactory(personal=True, owner=agent, is_active=False)
    shared_off = CannedResponseFactory(is_active=False)
    with pytest.raises(CannedResponseNotFound):
        response_get_for_agent(agent=agent, response_id=theirs.pk)
    with pytest.raises(CannedResponseNotFound):
        response_get_for_agent(agent=lead, response_id=theirs.pk)
    assert response_get_for_agent(agent=agent, response_id=mine_off.pk) == mine_off
    with pytest.raises(CannedResponseNotFound):
        response_get_for_agent(agent=agent, response_id=mine_off.pk, active_only=True)
    with pytest.raises(CannedResponseNotFound):
        response_get_for_agent(agent=agent, response_id=shared_off.pk)
    assert response_get_for_agent(agent=lead, response_id=shared_off.pk) == shared_off
