"""routing.metrics.metrics(): figures against hand-computed expectations (metrics_support),
per agent, topic and day, with filters, and a query count that does not grow with the data."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Chat, Message
from routing.metrics import MetricsRow, metrics
from tests.factories import AgentFactory, TopicFactory
from tests.routing.metrics_support import DAY, UTC, Scene, agent_says, at, chat_at, three_chats

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene() -> Scene:
    return three_chats()


def report(**kwargs: Any) -> Any:
    return metrics(**({"since": DAY, "until": DAY, "group_by": "agent"} | kwargs))


def test_totals_match_the_hand_computed_figures(scene: Scene) -> None:
    totals = report().totals
    assert totals.chats == 3
    assert totals.first_response_seconds == 120  # (60 + 180) / 2; C was never answered
    assert totals.handling_seconds == 915  # (630 + 1200) / 2
    assert totals.wait_seconds == 60  # (30 + 90) / 2
    assert totals.abandoned == 1
    assert totals.abandonment_rate == pytest.approx(1 / 3)
    assert totals.transfers == 1
    assert (totals.agent_messages, totals.canned_messages) == (8, 3)
    assert totals.canned_share == 0.375
    assert totals.tone_warnings == 1
    assert (totals.ratings, totals.csat_average, totals.csat_share) == (2, 4.0, 0.5)


def test_per_agent(scene: Scene) -> None:
    rows = {row.label: row for row in report(group_by="agent").rows}
    assert list(rows) == ["Alice Ames", "Bob Berg", "No agent"]
    alice, bob, nobody = rows["Alice Ames"], rows["Bob Berg"], rows["No agent"]
    assert (alice.key, alice.chats, alice.first_response_seconds) == (scene.alice.pk, 1, 60)
    assert (alice.handling_seconds, alice.wait_seconds, alice.transfers) == (630, 30, 1)
    assert (alice.canned_share, alice.tone_warnings) == (0.5, 1)
    assert (alice.csat_average, alice.csat_share) == (5.0, 1.0)
    assert (bob.first_response_seconds, bob.handling_seconds, bob.wait_seconds) == (180, 1200, 90)
    assert (bob.canned_share, bob.tone_warnings, bob.csat_share) == (0.25, 0, 0.0)
    assert (nobody.key, nobody.chats, nobody.abandonment_rate) == (None, 1, 1.0)
    assert nobody.first_response_seconds is None and nobody.csat_average is None
    assert nobody.canned_share is None


def test_per_topic(scene: Scene) -> None:
    rows = {row.label: row for row in report(group_by="topic").rows}
    assert list(rows) == ["Billing", "Shipping"]
    billing, shipping = rows["Billing"], rows["Shipping"]
    assert (billing.chats, billing.first_response_seconds, billing.handling_seconds) == (
        2,
        120,
        915,
    )
    assert (billing.agent_messages, billing.canned_messages, billing.tone_warnings) == (8, 3, 1)
    assert (billing.csat_average, billing.abandoned) == (4.0, 0)
    assert (shipping.chats, shipping.abandonment_rate, shipping.transfers) == (1, 1.0, 0)


def test_per_day_lists_every_day_of_the_range(scene: Scene) -> None:
    since = DAY - datetime.timedelta(days=2)
    rows = report(group_by="day", since=since, until=DAY).rows
    assert [row.key for row in rows] == [since, since + datetime.timedelta(days=1), DAY]
    assert [row.chats for row in rows] == [0, 1, 3]  # D the day before; a quiet day is a zero
    assert rows[0].first_response_seconds is None
    assert (rows[1].canned_messages, rows[2].canned_messages) == (1, 3)


def test_days_are_the_site_time_zone_s(settings: Any) -> None:
    # 03:30 UTC on the 5th is 22:30 on the 4th in New York (EST, UTC-5).
    settings.TIME_ZONE = "America/New_York"
    late = chat_at(created_at=datetime.datetime(2024, 3, 5, 3, 30, tzinfo=UTC))
    agent_says(late, author=AgentFactory(), origin=Message.Origin.CANNED)
    rows = report(group_by="day", since=DAY, until=DAY + datetime.timedelta(days=1)).rows
    assert [(row.key, row.chats, row.canned_messages) for row in rows] == [
        (DAY, 1, 1),
        (DAY + datetime.timedelta(days=1), 0, 0),
    ]
    # The range itself is in local days too: the 5th alone does not include it.
    assert (
        report(
            since=DAY + datetime.timedelta(days=1), until=DAY + datetime.timedelta(days=1)
        ).totals.chats
        == 0
    )


def test_filter_by_topic(scene: Scene) -> None:
    totals = report(topic_id=scene.shipping.pk).totals
    assert (totals.chats, totals.abandoned, totals.agent_messages) == (1, 1, 0)


def test_filter_by_agent_counts_their_chats_and_their_messages(scene: Scene) -> None:
    result = report(agent_id=scene.bob.pk, group_by="topic")
    assert [row.label for row in result.rows] == ["Billing"]
    totals = result.totals
    assert (totals.chats, totals.agent_messages, totals.canned_messages) == (1, 4, 1)
    assert totals.csat_average == 3.0


def test_a_transferred_chat_s_replies_count_for_their_author(scene: Scene) -> None:
    agent_says(scene.b, author=scene.alice, origin=Message.Origin.CANNED)
    rows = {row.label: row for row in report().rows}
    assert (rows["Alice Ames"].chats, rows["Alice Ames"].agent_messages) == (1, 5)
    assert rows["Bob Berg"].agent_messages == 4


def test_an_empty_range_has_no_rows_and_empty_totals(scene: Scene) -> None:
    result = report(
        since=DAY + datetime.timedelta(days=30), until=DAY + datetime.timedelta(days=31)
    )
    assert result.rows == []
    assert result.totals == MetricsRow(
        key=None,
        label="Total",
        chats=0,
        first_response_seconds=None,
        handling_seconds=None,
        wait_seconds=None,
        abandoned=0,
        transfers=0,
        agent_messages=0,
        canned_messages=0,
        tone_warnings=0,
        ratings=0,
        csat_average=None,
        satisfied=0,
    )


@pytest.mark.parametrize(
    "bad", [{"group_by": "customer"}, {"until": DAY - datetime.timedelta(days=1)}]
)
def test_bad_arguments_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        report(**bad)


def _many_chats(count: int) -> None:
    topics = [TopicFactory() for _ in range(3)]
    agents = [AgentFactory() for _ in range(4)]
    for i in range(count):
        chat = chat_at(
            topic=topics[i % 3],
            agent=agents[i % 4],
            status=Chat.Status.CLOSED,
            created_at=at(8 + i % 12, i % 60),
            assigned_at=at(20, i % 60),
            first_agent_response_at=at(21),
            closed_at=at(22),
        )
        agent_says(chat, author=agents[i % 4], origin=Message.Origin.CANNED, tone=["x"] * (i % 2))


@pytest.mark.parametrize("group_by", ["agent", "topic", "day"])
@pytest.mark.parametrize("count", [3, 60])
def test_the_query_count_does_not_grow_with_the_data(group_by: str, count: int) -> None:
    _many_chats(count)
    with CaptureQueriesContext(connection) as queries:
        result = report(group_by=group_by, since=DAY - datetime.timedelta(days=6))
    assert len(queries) == 2
    assert result.totals.chats == count
    assert result.totals.tone_warnings == count // 2
