"""Queue position and estimated wait, against hand-computed values on factory data.

position = 1 + queued chats of the same topic ahead in chat's queue order
estimate = mean handling time (assigned -> closed) of the topic's last 50 closed chats that
           had an agent (else HELPDESK_DEFAULT_HANDLING_SECONDS)
           / eligible agents (online, present, with the skill or no skills) * position
           ; None when no agent of the topic is available
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Chat
from routing import selectors
from routing.models import AgentProfile
from tests.factories import AgentFactory, ChatFactory, TopicFactory
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_handling(settings) -> None:
    settings.HELPDESK_DEFAULT_HANDLING_SECONDS = 300


def queued(topic, *, minutes_ago: int, priority: int = 0) -> Chat:
    return ChatFactory(
        topic=topic,
        queued_at=timezone.now() - timedelta(minutes=minutes_ago),
        queue_priority=priority,
    )


def handled(topic, *, seconds: int, closed_minutes_ago: int = 1, agent=None) -> Chat:
    closed_at = timezone.now() - timedelta(minutes=closed_minutes_ago)
    return ChatFactory(
        topic=topic,
        status=Chat.Status.CLOSED,
        agent=agent or AgentFactory(),
        assigned_at=closed_at - timedelta(seconds=seconds),
        closed_at=closed_at,
    )


def standings() -> dict[int, tuple[int, int | None, bool]]:
    return {
        s.chat_id: (s.position, s.estimated_wait_seconds, s.agents_available)
        for s in selectors.queue_standings()
    }


def test_positions_count_only_the_same_topic_and_a_requeued_chat_is_first() -> None:
    returns, billing = TopicFactory(), TopicFactory()
    make_agent(topics=[returns, billing])
    oldest = queued(returns, minutes_ago=10)
    billing_chat = queued(billing, minutes_ago=9)
    newer = queued(returns, minutes_ago=5)
    requeued = queued(returns, minutes_ago=1, priority=1)  # its agent left: front of the queue

    result = standings()

    assert {chat_id: position for chat_id, (position, _, _) in result.items()} == {
        requeued.pk: 1,
        oldest.pk: 2,
        newer.pk: 3,
        billing_chat.pk: 1,
    }


def test_the_estimate_is_the_mean_handling_time_over_the_agents_times_the_position() -> None:
    topic = TopicFactory()
    handled(topic, seconds=100)
    handled(topic, seconds=200)
    handled(TopicFactory(), seconds=9000)  # another topic's chats do not count
    ChatFactory(  # closed without an agent (e.g. abandoned): no handling time
        topic=topic, status=Chat.Status.CLOSED, closed_at=timezone.now()
    )
    make_agent(topics=[topic])
    make_agent(topics=[])  # no skills: handles every topic
    first, second, third = (queued(topic, minutes_ago=m) for m in (3, 2, 1))

    # mean 150 s, 2 agents: 75 s per place in line.
    assert standings() == {
        first.pk: (1, 75, True),
        second.pk: (2, 150, True),
        third.pk: (3, 225, True),
    }


def test_only_the_last_50_closed_chats_count() -> None:
    topic = TopicFactory()
    handled(topic, seconds=100_000, closed_minutes_ago=500)  # the 51st most recent
    for n in range(50):
        handled(topic, seconds=60, closed_minutes_ago=n + 1)
    make_agent(topics=[topic])
    chat = queued(topic, minutes_ago=1)

    assert standings() == {chat.pk: (1, 60, True)}


def test_without_closed_chats_the_default_handling_time_is_used(settings) -> None:
    settings.HELPDESK_DEFAULT_HANDLING_SECONDS = 240
    topic = TopicFactory()
    make_agent(topics=[topic])
    make_agent(topics=[topic])
    make_agent(topics=[topic])
    first, second = queued(topic, minutes_ago=2), queued(topic, minutes_ago=1)

    assert standings() == {first.pk: (1, 80, True), second.pk: (2, 160, True)}


def test_a_full_agent_still_counts() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=1)
    ChatFactory(topic=topic, status=Chat.Status.ACTIVE, agent=agent, assigned_at=timezone.now())
    chat = queued(topic, minutes_ago=1)

    assert standings() == {chat.pk: (1, 300, True)}


@pytest.mark.parametrize(
    "agent_kwargs",
    [
        pytest.param({"status": AgentProfile.Status.AWAY}, id="away"),
        pytest.param({"status": AgentProfile.Status.OFFLINE}, id="offline"),
        pytest.param({"present": False}, id="no-console"),
        pytest.param({"is_active": False}, id="deactivated"),
        pytest.param({"other_topic": True}, id="other-topic"),
    ],
)
def test_without_an_available_agent_of_the_topic_there_is_no_estimate(agent_kwargs) -> None:
    topic = TopicFactory()
    if agent_kwargs.pop("other_topic", False):
        make_agent(topics=[TopicFactory()])
    else:
        make_agent(topics=[topic], **agent_kwargs)
    first, second = queued(topic, minutes_ago=2), queued(topic, minutes_ago=1)

    assert standings() == {first.pk: (1, None, False), second.pk: (2, None, False)}


def test_an_agent_reloading_the_console_still_counts_within_the_grace_period() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], present=False)
    AgentProfile.objects.filter(user=agent).update(
        last_disconnected_at=timezone.now() - timedelta(seconds=10)
    )
    chat = queued(topic, minutes_ago=1)

    assert standings() == {chat.pk: (1, 300, True)}

    AgentProfile.objects.filter(user=agent).update(
        last_disconnected_at=timezone.now() - timedelta(seconds=61)
    )
    assert standings() == {chat.pk: (1, None, False)}


def test_all_positions_of_every_topic_take_three_queries(django_assert_num_queries) -> None:
    topics = [TopicFactory() for _ in range(3)]
    for topic in topics:
        make_agent(topics=[topic])
        handled(topic, seconds=120)
        for minutes in range(1, 8):
            queued(topic, minutes_ago=minutes)
    make_agent(topics=[])

    with django_assert_num_queries(3):
        result = selectors.queue_standings()

    assert len(result) == 21
    with django_assert_num_queries(3):
        assert len(selectors.queue_standings(topic_ids=[topics[0].pk])) == 7


def test_an_empty_queue_takes_one_query(django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        assert selectors.queue_standings() == []


def test_the_queue_frame_of_one_chat() -> None:
    topic = TopicFactory()
    make_agent(topics=[topic])
    queued(topic, minutes_ago=2)
    chat = queued(topic, minutes_ago=1)
    active = ChatFactory(
        topic=topic, status=Chat.Status.ACTIVE, agent=AgentFactory(), assigned_at=timezone.now()
    )

    assert selectors.queue_frame_for_chat(chat_id=chat.pk) == {
        "type": "queue",
        "chat": chat.pk,
        "position": 2,
        "estimated_wait_seconds": 600,
        "agents_available": True,
        "message_offered": False,
    }
    assert selectors.queue_frame_for_chat(chat_id=active.pk) == {
        "type": "queue",
        "chat": active.pk,
        "position": None,
        "estimated_wait_seconds": None,
        "agents_available": None,
        "message_offered": None,
    }
