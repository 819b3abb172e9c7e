"""/admin/metrics/?format=csv carries the answer bot's and the invitations' figures as extra
columns of the one table (docs/metrics.md): the bot's per row of every grouping, the invitations'
per day or per topic (the rule's) and in the totals, empty where they belong to no group (agent
rows, an agent chosen); hand-computed figures, and the same queries whatever the data.

The scene, on 4 March 2024 (UTC):
  Returns  R1 the bot answered (helpful) and the customer ended it: resolved by the bot
           R2 the bot answered (rejected); Alice took it
  Billing  B1 Alice's, no bot answer
Invitations: "Boots" (Returns) shown 10, accepted 4, dismissed 5 that day; "Invoices"
(Billing) shown 5, accepted 1; the day before, "Boots" shown 100 (outside the range).
"""

import csv
import datetime
import io
from typing import Any

import pytest
from django.test import Client

from chat.models import Chat
from tests.cannedresponses.answerbot.test_answerbot_metrics import answer
from tests.factories import (
    AgentFactory,
    ArticleFactory,
    InvitationRuleFactory,
    InvitationTallyFactory,
    SupervisorFactory,
    TopicFactory,
)
from tests.routing.metrics_support import DAY, at, chat_at

pytestmark = pytest.mark.django_db

URL = "/admin/metrics/"
NEXT = DAY + datetime.timedelta(days=1)
BOT = [
    "bot_answered_chats",
    "bot_resolved_chats",
    "bot_resolved_share",
    "bot_answers",
    "bot_helpful_answers",
    "bot_rejected_answers",
    "bot_rejected_share",
]
INVITATIONS = [
    "invitations_shown",
    "invitations_accepted",
    "invitations_dismissed",
    "invitations_acceptance_rate",
]


@pytest.fixture(autouse=True)
def _utc(settings: Any) -> None:
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def supervisor(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


@pytest.fixture
def scene() -> dict[str, Any]:
    alice = AgentFactory(first_name="Alice", last_name="Ames")
    returns = TopicFactory(name="Returns", slug="returns")
    billing = TopicFactory(name="Billing", slug="billing")
    labels = ArticleFactory(title="Labels")
    r1 = chat_at(
        created_at=at(9),
        topic=returns,
        status=Chat.Status.CLOSED,
        closed_at=at(9, 5),
        closed_by=Chat.ClosedBy.CUSTOMER,
        close_reason=Chat.CloseReason.RESOLVED_BY_BOT,
    )
    r2 = chat_at(
        created_at=at(10), topic=returns, agent=alice, status="active", assigned_at=at(10, 5)
    )
    chat_at(created_at=at(11), topic=billing, agent=alice, status="active", assigned_at=at(11, 1))
    answer(r1, "helpful", labels)
    answer(r2, "rejected", labels)
    boots = InvitationRuleFactory(name="Boots", topic=returns)
    invoices = InvitationRuleFactory(name="Invoices", topic=billing)
    InvitationTallyFactory(rule=boots, day=DAY, shown=10, accepted=4, dismissed=5)
    InvitationTallyFactory(rule=invoices, day=DAY, shown=5, accepted=1, dismissed=0)
    InvitationTallyFactory(rule=boots, day=DAY - datetime.timedelta(days=1), shown=100)
    return {"alice": alice, "returns": returns, "billing": billing}


def table(client: Client, **params: Any) -> dict[str, dict[str, str]]:
    """The CSV's rows by their group label, each as {column: cell}."""
    query = {"since": DAY.isoformat(), "until": DAY.isoformat(), "format": "csv"} | params
    response = client.get(URL, query)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    header, *rows = csv.reader(io.StringIO(body[1:]))
    assert all(len(row) == len(header) for row in rows)  # one rectangular table
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def cells(row: dict[str, str], columns: list[str]) -> list[str]:
    return [row[column] for column in columns]


def test_the_columns_follow_the_existing_ones(supervisor: Client) -> None:
    response = supervisor.get(URL, {"format": "csv"})
    header = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))
    # Appended: scripts reading the earlier columns by position keep working.
    assert header[:2] == ["group", "chats"] and header[-11:] == BOT + INVITATIONS


def test_per_topic(supervisor: Client, scene: dict[str, Any]) -> None:
    rows = table(supervisor, group_by="topic")
    assert list(rows) == ["Billing", "Returns", "Total"]
    assert cells(rows["Returns"], BOT) == ["2", "1", "0.5", "2", "1", "1", "0.5"]
    assert cells(rows["Returns"], INVITATIONS) == ["10", "4", "5", "0.4"]
    # No bot answer: a share of chats is 0, a share of no answers is not measured.
    assert cells(rows["Billing"], BOT) == ["0", "0", "0", "0", "0", "0", ""]
    assert cells(rows["Billing"], INVITATIONS) == ["5", "1", "0", "0.2"]
    assert rows["Total"]["chats"] == "3"
    assert cells(rows["Total"], BOT) == ["2", "1", "0.3333", "2", "1", "1", "0.5"]
    assert cells(rows["Total"], INVITATIONS) == ["15", "5", "5", "0.3333"]


def test_per_day_a_day_without_invitations_has_zeros(
    supervisor: Client, scene: dict[str, Any]
) -> None:
    rows = table(supervisor, group_by="day", until=NEXT.isoformat())
    assert list(rows) == [DAY.isoformat(), NEXT.isoformat(), "Total"]
    assert cells(rows[DAY.isoformat()], BOT)[:3] == ["2", "1", "0.3333"]
    assert cells(rows[DAY.isoformat()], INVITATIONS) == ["15", "5", "5", "0.3333"]
    assert cells(rows[NEXT.isoformat()], BOT) == ["0", "0", "", "0", "0", "0", ""]
    assert cells(rows[NEXT.isoformat()], INVITATIONS) == ["0", "0", "0", ""]
    assert cells(rows["Total"], INVITATIONS) == ["15", "5", "5", "0.3333"]


def test_per_agent_invitations_are_only_in_the_totals(
    supervisor: Client, scene: dict[str, Any]
) -> None:
    rows = table(supervisor, group_by="agent")
    assert cells(rows["No agent"], BOT)[:3] == ["1", "1", "1"]
    assert cells(rows["Alice Ames"], BOT) == ["1", "0", "0", "1", "0", "1", "1"]
    assert cells(rows["No agent"], INVITATIONS) == cells(rows["Alice Ames"], INVITATIONS)
    assert cells(rows["Alice Ames"], INVITATIONS) == ["", "", "", ""]
    assert cells(rows["Total"], INVITATIONS) == ["15", "5", "5", "0.3333"]


def test_an_agent_chosen_has_no_invitations(supervisor: Client, scene: dict[str, Any]) -> None:
    rows = table(supervisor, group_by="topic", agent=scene["alice"].pk)
    assert cells(rows["Returns"], BOT) == ["1", "0", "0", "1", "0", "1", "1"]
    assert all(cells(row, INVITATIONS) == ["", "", "", ""] for row in rows.values())


def test_a_topic_chosen_keeps_its_rules(supervisor: Client, scene: dict[str, Any]) -> None:
    rows = table(supervisor, group_by="day", topic=scene["billing"].pk)
    assert cells(rows[DAY.isoformat()], INVITATIONS) == ["5", "1", "0", "0.2"]
    assert cells(rows["Total"], BOT)[:4] == ["0", "0", "0", "0"]


def _many(count: int) -> None:
    topics = [TopicFactory() for _ in range(3)]
    agent = AgentFactory()
    article = ArticleFactory()
    for i in range(count):
        chat = chat_at(
            created_at=at(8 + i % 12, i % 60, day=DAY + datetime.timedelta(days=i % 3)),
            topic=topics[i % 3],
            agent=agent if i % 2 else None,
        )
        answer(chat, ("helpful", "rejected", "")[i % 3], article)
        rule = InvitationRuleFactory(topic=topics[i % 3])
        InvitationTallyFactory(rule=rule, day=DAY + datetime.timedelta(days=i % 3), shown=2)


@pytest.mark.parametrize("group_by", ["day", "topic", "agent"])
@pytest.mark.parametrize("count", [1, 20])
def test_the_same_queries_whatever_the_data(
    supervisor: Client, django_assert_num_queries: Any, group_by: str, count: int
) -> None:
    _many(count)
    # The session, the user, the supervisor checks and the admin's permissions (6), the
    # report (2), the bot (2) and the invitations (1).
    with django_assert_num_queries(11):
        rows = table(supervisor, group_by=group_by, until=(DAY + datetime.timedelta(days=2)))
    assert rows["Total"]["bot_answers"] == str(count)
    assert rows["Total"]["invitations_shown"] == str(2 * count)
