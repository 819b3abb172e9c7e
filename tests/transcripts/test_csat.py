"""csat(): count, average and share of 4s and 5s of the chats closed in a period, in one
query, by topic or agent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import AgentFactory, ClosedChatFactory, RatingFactory, TopicFactory
from transcripts.feedback import Csat, csat

pytestmark = pytest.mark.django_db


def test_figures_in_one_query(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    bruno, carla = AgentFactory(), AgentFactory()
    returns, billing = TopicFactory(), TopicFactory()
    for score, agent, topic in [(5, bruno, returns), (4, bruno, billing), (1, carla, returns)]:
        RatingFactory(score=score, chat=ClosedChatFactory(agent=agent, topic=topic))
    # Outside the period (closed two days ago), and a closed chat without a rating.
    RatingFactory(score=1, chat=ClosedChatFactory(closed_at=now - timedelta(days=2)))
    ClosedChatFactory()

    since, until = now - timedelta(hours=1), now + timedelta(hours=1)
    with django_assert_num_queries(1):
        every = csat(since=since, until=until)
    assert every == Csat(count=3, average=3.33, share_4_or_5=pytest.approx(2 / 3))
    assert csat(since=since, until=until, agent_id=bruno.pk) == Csat(2, 4.5, 1.0)
    assert csat(since=since, until=until, topic_id=returns.pk) == Csat(2, 3.0, 0.5)
    assert csat(since=since, until=until, topic_id=billing.pk, agent_id=carla.pk) == Csat(
        0, None, None
    )


def test_the_period_is_half_open_by_close_time() -> None:
    now = timezone.now()
    RatingFactory(score=5, chat=ClosedChatFactory(closed_at=now))
    assert csat(since=now, until=now + timedelta(seconds=1)).count == 1
    assert csat(since=now - timedelta(seconds=1), until=now).count == 0
