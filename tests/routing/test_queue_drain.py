"""The automatic policy's drain: which chat goes to which agent (skills, capacity, fairness).

Chats are started through the real service; in these tests on-commit callbacks do not run,
so nothing is assigned until the test drains the queue itself.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from chat import services as chat_services
from chat.models import Chat, ChatEvent
from helpdesk.roles import AGENTS_GROUP
from routing import services
from routing.models import AgentProfile, ConsoleConnection
from routing.services import Assignment
from tests.factories import TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent, profile_of

pytestmark = pytest.mark.django_db


def agent_of(chat: Chat) -> object:
    return Chat.objects.select_related("agent").get(pk=chat.pk).agent


def test_a_chat_goes_only_to_an_agent_with_its_topic() -> None:
    returns, billing = TopicFactory(), TopicFactory()
    billing_agent = make_agent(topics=[billing])
    returns_agent = make_agent(topics=[returns])
    chat = start_chat(topic=returns)

    assert services.queue_drain() == [Assignment(chat_id=chat.pk, agent_id=returns_agent.pk)]
    assert agent_of(chat) == returns_agent
    assert Chat.objects.filter(agent=billing_agent).count() == 0


def test_a_chat_nobody_has_the_skill_for_stays_queued_and_blocks_no_other() -> None:
    returns, orphan = TopicFactory(), TopicFactory()
    agent = make_agent(topics=[returns])
    stuck = start_chat(topic=orphan)  # older, but no agent knows the topic
    served = start_chat(topic=returns)

    services.queue_drain()

    assert Chat.objects.get(pk=stuck.pk).status == Chat.Status.QUEUED
    assert agent_of(served) == agent


def test_an_agent_never_gets_more_than_max_chats() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=2)
    chats = [start_chat(topic=topic) for _ in range(4)]

    assert len(services.queue_drain()) == 2
    assert Chat.objects.filter(agent=agent, status=Chat.Status.ACTIVE).count() == 2
    # The two who waited longest got the agent; the others still wait, in order.
    assert [agent_of(c) for c in chats] == [agent, agent, None, None]
    assert services.queue_drain() == []


def test_chats_taken_by_hand_count_against_the_limit() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=1)
    chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)
    waiting = start_chat(topic=topic)

    assert services.queue_drain() == []
    assert Chat.objects.get(pk=waiting.pk).status == Chat.Status.QUEUED


def test_the_agent_with_the_fewest_open_chats_gets_the_chat() -> None:
    topic = TopicFactory()
    busy = make_agent(topics=[topic], last_assigned_at=timezone.now() - timedelta(hours=1))
    chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=busy)
    # Idle longer but busier loses to the one with fewer open chats.
    free = make_agent(topics=[topic], last_assigned_at=timezone.now())
    chat = start_chat(topic=topic)

    services.queue_drain()

    assert agent_of(chat) == free


def test_ties_go_to_the_agent_idle_longest_never_assigned_first() -> None:
    topic = TopicFactory()
    now = timezone.now()
    recent = make_agent(topics=[topic], last_assigned_at=now - timedelta(minutes=1))
    longest = make_agent(topics=[topic], last_assigned_at=now - timedelta(minutes=30))
    never = make_agent(topics=[topic], last_assigned_at=None)
    chats = [start_chat(topic=topic) for _ in range(3)]

    services.queue_drain()

    assert [agent_of(c) for c in chats] == [never, longest, recent]
    assert profile_of(never).last_assigned_at is not None


def test_work_is_spread_round_robin_between_equal_agents() -> None:
    topic = TopicFactory()
    a, b = make_agent(topics=[topic]), make_agent(topics=[topic])
    chats = [start_chat(topic=topic) for _ in range(4)]

    services.queue_drain()

    owners = [agent_of(c) for c in chats]
    assert owners.count(a) == owners.count(b) == 2


def test_the_longest_waiting_chat_goes_first() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=1)
    newer = start_chat(topic=topic)
    older = start_chat(topic=topic)
    Chat.objects.filter(pk=older.pk).update(queued_at=newer.queued_at - timedelta(minutes=5))

    services.queue_drain()

    assert agent_of(older) == agent
    assert agent_of(newer) is None


def test_a_requeued_chat_goes_before_chats_that_waited_longer() -> None:
    topic = TopicFactory()
    waiting = start_chat(topic=topic)
    left_behind = chat_services.chat_assign(
        chat_id=start_chat(topic=topic).pk, agent=make_agent(topics=[], present=False)
    )
    chat_services.chat_requeue(chat_id=left_behind.pk, reason="agent_left")
    agent = make_agent(topics=[topic], max_chats=1)

    services.queue_drain()

    assert agent_of(left_behind) == agent
    assert agent_of(waiting) is None


@pytest.mark.parametrize("status", [AgentProfile.Status.AWAY, AgentProfile.Status.OFFLINE], ids=str)
def test_an_agent_who_did_not_choose_online_gets_nothing(status: str) -> None:
    topic = TopicFactory()
    make_agent(topics=[topic], status=status)
    chat = start_chat(topic=topic)

    assert services.queue_drain() == []
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.QUEUED


def test_an_online_agent_without_a_live_console_gets_nothing() -> None:
    topic = TopicFactory()
    make_agent(topics=[topic], present=False)
    stale = make_agent(topics=[topic])
    ConsoleConnection.objects.filter(agent=stale).update(
        last_seen_at=timezone.now() - timedelta(seconds=61)
    )
    chat = start_chat(topic=topic)

    assert services.queue_drain() == []
    assert Chat.objects.get(pk=chat.pk).agent is None


def test_a_user_no_longer_in_the_agents_group_gets_nothing() -> None:
    topic = TopicFactory()
    former = make_agent(topics=[topic])
    former.groups.remove(Group.objects.get(name=AGENTS_GROUP))
    chat = start_chat(topic=topic)

    assert services.queue_drain() == []
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.QUEUED


def test_each_chat_is_assigned_once_on_its_timeline() -> None:
    topic = TopicFactory()
    make_agent(topics=[topic])
    make_agent(topics=[topic])
    chats = [start_chat(topic=topic) for _ in range(5)]

    services.queue_drain()
    services.queue_drain()

    for chat in chats:
        kinds = list(ChatEvent.objects.filter(chat=chat).values_list("kind", flat=True))
        assert kinds == ["queued", "assigned"]
    assert Chat.objects.filter(status=Chat.Status.QUEUED).count() == 0


def test_the_customer_is_told_who_joined() -> None:
    topic = TopicFactory()
    make_agent(topics=[topic], first_name="Bruno")
    chat = start_chat(topic=topic)

    services.queue_drain()

    assert chat.messages.order_by("-seq").first().body == "Bruno joined the chat."


def test_max_chats_below_one_is_refused_by_the_database() -> None:
    from django.db import IntegrityError, transaction

    agent = make_agent()
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentProfile.objects.filter(user=agent).update(max_chats=0)
