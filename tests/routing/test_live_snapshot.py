"""routing.live.live_snapshot: the live page's content from factory data, in constant queries."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chat.models import Chat
from routing.live import live_snapshot
from routing.models import AgentProfile
from tests.factories import ChatFactory, ClosedChatFactory, SupervisorFactory, TopicFactory
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db


def _at(seconds_ago: float) -> Any:
    return timezone.now() - timedelta(seconds=seconds_ago)


def _by_id(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in rows}


def test_queues_agents_red_chats_and_today_match_the_data() -> None:
    billing = TopicFactory(name="Billing", amber_after_seconds=60, red_after_seconds=120)
    returns = TopicFactory(name="Returns", amber_after_seconds=30, red_after_seconds=90)
    alice = make_agent(topics=[billing], first_name="Alice", last_name="A", max_chats=2)
    bruno = make_agent(first_name="Bruno", last_name="B")  # a generalist
    make_agent(topics=[returns], first_name="Carla", status=AgentProfile.Status.AWAY)
    make_agent(topics=[returns], first_name="Duarte", present=False)
    SupervisorFactory()  # not an agent: not listed

    ChatFactory(topic=billing, queued_at=_at(200), awaiting_reply_since=_at(200))
    ChatFactory(topic=billing, queued_at=_at(10), awaiting_reply_since=_at(10))
    active = ChatFactory(
        topic=returns, status=Chat.Status.ACTIVE, agent=alice, awaiting_reply_since=_at(100)
    )
    ChatFactory(topic=returns, status=Chat.Status.ACTIVE, agent=alice, awaiting_reply_since=None)
    ClosedChatFactory(topic=billing, close_reason=Chat.CloseReason.ABANDONED, closed_at=_at(5))
    ClosedChatFactory(topic=billing, close_reason=Chat.CloseReason.LEFT_MESSAGE, closed_at=_at(5))
    answered = ChatFactory(topic=returns, status=Chat.Status.ACTIVE, agent=bruno)
    Chat.objects.filter(pk=answered.pk).update(
        created_at=_at(50), first_agent_response_at=_at(20), awaiting_reply_since=None
    )

    snapshot = live_snapshot()

    assert snapshot["type"] == "live"
    topics = _by_id(snapshot["topics"])
    assert topics[billing.pk]["queued"] == 2
    assert 199 <= topics[billing.pk]["longest_wait_seconds"] <= 202
    assert topics[billing.pk]["red_after"] == 120
    # Alice (skill) and Bruno (generalist): online with a console. Carla is away, Duarte gone.
    assert topics[billing.pk]["agents_online"] == 2
    assert topics[returns.pk] | {"longest_wait_seconds": None} == topics[returns.pk]
    assert topics[returns.pk]["queued"] == 0
    assert topics[returns.pk]["agents_online"] == 1

    agents = {row["name"].split()[0]: row for row in snapshot["agents"]}
    assert set(agents) == {"Alice", "Bruno", "Carla", "Duarte"}
    assert agents["Alice"] | {"topics": None} == {
        "id": alice.pk,
        "name": "Alice A",
        "status": "online",
        "present": True,
        "open_chats": 2,
        "max_chats": 2,
        "topics": None,
    }
    assert agents["Alice"]["topics"] == [{"id": billing.pk, "name": "Billing"}]
    assert agents["Bruno"]["open_chats"] == 1 and agents["Bruno"]["topics"] == []
    assert agents["Carla"]["status"] == "away"
    assert agents["Duarte"]["present"] is False

    # Past red: the 200 s billing wait (red 120) and Alice's 100 s returns wait (red 90).
    red = snapshot["red_chats"]
    assert [row["waited_seconds"] >= 100 for row in red] == [True, True]
    assert red[0]["topic"]["name"] == "Billing" and red[0]["agent"] is None
    assert red[1]["id"] == active.pk and red[1]["agent"] == {"id": alice.pk, "name": "Alice A"}

    today = snapshot["today"]
    assert today["started"] == 7  # every chat above was created today (answered: 50 s ago)
    assert (today["closed"], today["abandoned"], today["left_message"]) == (2, 1, 1)
    assert today["average_first_response_seconds"] == 30


def test_yesterday_is_not_today() -> None:
    old = ClosedChatFactory(close_reason=Chat.CloseReason.ABANDONED)
    long_ago = timezone.now() - timedelta(days=2)
    Chat.objects.filter(pk=old.pk).update(created_at=long_ago, closed_at=long_ago)

    assert live_snapshot()["today"] == {
        "started": 0,
        "closed": 0,
        "abandoned": 0,
        "left_message": 0,
        "average_first_response_seconds": None,
    }


def _world(size: int) -> None:
    topics = [TopicFactory() for _ in range(size)]
    for index in range(size):
        agent = make_agent(topics=topics[: index % 3 + 1])
        ChatFactory(topic=topics[index], queued_at=_at(500), awaiting_reply_since=_at(500))
        ChatFactory(topic=topics[index], status=Chat.Status.ACTIVE, agent=agent)
        ClosedChatFactory(topic=topics[index], closed_at=_at(1))


@pytest.mark.parametrize("size", [1, 30])
def test_the_query_count_does_not_grow_with_the_data(size: int, django_assert_num_queries) -> None:
    _world(size)
    with django_assert_num_queries(5):
        snapshot = live_snapshot()
    assert len(snapshot["agents"]) == size
    assert len(snapshot["red_chats"]) == size
