"""routing.bot_metrics: the bot's figures on the metrics page against hand-computed
expectations, per agent, topic and day, the articles rejected most, and two queries whatever
the data.

The scene, on 4 March 2024 (UTC) unless said otherwise:
  returns  R1 bot answered (helpful) and resolved: closed `resolved_by_bot`, no agent
           R2 bot answered twice: the first rejected, the second not answered; Alice took it
           R3 no bot answer; Alice
  billing  B1 bot answered (rejected); abandoned in the queue
           B2 bot answered (helpful), then Bob took it
  returns  R0 the day before: bot answered (rejected), outside the range asked
Articles: "Labels" offered in R1, R2 (first answer), R0; "Refunds" in R2 (second), B1, B2;
"Vouchers" in B1 and then deleted.
"""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cannedresponses.models import BotAnswer, BotAnswerArticle
from chat.models import Chat, Message
from helpdesk.models import Article
from routing.bot_metrics import bot_metrics
from routing.metrics import metrics
from tests.factories import AgentFactory, ArticleFactory, MessageFactory, TopicFactory
from tests.routing.metrics_support import DAY, at, chat_at

pytestmark = pytest.mark.django_db


def answer(chat: Chat, feedback: str, *articles: Article) -> BotAnswer:
    question = MessageFactory(chat=chat, kind=Message.Kind.CUSTOMER)
    message = MessageFactory(chat=chat, kind=Message.Kind.BOT)
    record = BotAnswer.objects.create(
        chat=chat, message=message, question_seq=question.seq, question="?", feedback=feedback
    )
    for position, article in enumerate(articles, start=1):
        BotAnswerArticle.objects.create(
            answer=record, article=article, title=article.title, position=position
        )
    return record


@pytest.fixture
def scene(settings: Any) -> dict[str, Any]:
    settings.TIME_ZONE = "UTC"
    alice = AgentFactory(first_name="Alice", last_name="Ames")
    bob = AgentFactory(first_name="Bob", last_name="Berg")
    returns = TopicFactory(name="Returns", slug="returns")
    billing = TopicFactory(name="Billing", slug="billing")
    labels = ArticleFactory(title="Labels")
    refunds = ArticleFactory(title="Refunds")
    vouchers = ArticleFactory(title="Vouchers")
    closed = {"status": Chat.Status.CLOSED, "closed_at": at(12)}
    r1 = chat_at(
        created_at=at(9),
        topic=returns,
        close_reason=Chat.CloseReason.RESOLVED_BY_BOT,
        closed_by=Chat.ClosedBy.CUSTOMER,
        **closed,
    )
    r2 = chat_at(
        created_at=at(10), topic=returns, agent=alice, status="active", assigned_at=at(10, 5)
    )
    chat_at(created_at=at(11), topic=returns, agent=alice, status="active", assigned_at=at(11, 1))
    b1 = chat_at(
        created_at=at(9, 30),
        topic=billing,
        close_reason=Chat.CloseReason.ABANDONED,
        closed_by=Chat.ClosedBy.SYSTEM,
        **closed,
    )
    b2 = chat_at(created_at=at(13), topic=billing, agent=bob, status="active", assigned_at=at(14))
    r0 = chat_at(created_at=at(9, day=DAY - datetime.timedelta(days=1)), topic=returns)
    answer(r1, "helpful", labels)
    answer(r2, "rejected", labels)
    answer(r2, "", refunds)
    answer(b1, "rejected", refunds, vouchers)
    answer(b2, "helpful", refunds)
    answer(r0, "rejected", labels)
    vouchers.delete()
    return {"alice": alice, "bob": bob, "returns": returns, "billing": billing}


def figures(group_by: str = "topic", **filters: Any) -> Any:
    report = metrics(since=DAY, until=DAY, group_by=group_by, **filters)  # type: ignore[arg-type]
    return bot_metrics(report=report, **filters)


def test_totals(scene: dict[str, Any]) -> None:
    totals = figures().totals
    assert (totals.chats, totals.bot_chats, totals.resolved) == (5, 4, 1)
    assert totals.resolved_share == pytest.approx(1 / 5)
    assert (totals.answers, totals.helpful, totals.rejected) == (5, 2, 2)
    assert totals.rejected_share == pytest.approx(2 / 5)


def test_per_topic(scene: dict[str, Any]) -> None:
    rows = {row.label: row for row in figures("topic").rows}
    returns, billing = rows["Returns"], rows["Billing"]
    assert (returns.chats, returns.bot_chats, returns.resolved, returns.answers) == (3, 2, 1, 3)
    assert (returns.helpful, returns.rejected) == (1, 1)
    assert returns.resolved_share == pytest.approx(1 / 3)
    assert (billing.chats, billing.bot_chats, billing.resolved, billing.answers) == (2, 2, 0, 2)
    assert (billing.resolved_share, billing.rejected_share) == (0.0, 0.5)


def test_per_agent_the_resolved_chats_have_none(scene: dict[str, Any]) -> None:
    rows = {row.label: row for row in figures("agent").rows}
    nobody, alice, bob = rows["No agent"], rows["Alice Ames"], rows["Bob Berg"]
    assert (nobody.chats, nobody.bot_chats, nobody.resolved, nobody.rejected) == (2, 2, 1, 1)
    assert (alice.chats, alice.bot_chats, alice.answers, alice.rejected) == (2, 1, 2, 1)
    assert alice.resolved_share == 0.0
    assert (bob.bot_chats, bob.helpful) == (1, 1)


def test_per_day_and_the_day_before_apart(scene: dict[str, Any]) -> None:
    report = metrics(since=DAY - datetime.timedelta(days=1), until=DAY, group_by="day")
    rows = bot_metrics(report=report).rows
    assert [(row.chats, row.bot_chats, row.answers, row.rejected) for row in rows] == [
        (1, 1, 1, 1),
        (5, 4, 5, 2),
    ]


def test_filters_narrow_like_the_report(scene: dict[str, Any]) -> None:
    totals = figures(topic_id=scene["billing"].pk).totals
    assert (totals.chats, totals.answers, totals.resolved) == (2, 2, 0)
    totals = figures(agent_id=scene["alice"].pk).totals
    assert (totals.chats, totals.bot_chats, totals.answers) == (2, 1, 2)


def test_the_articles_rejected_most(scene: dict[str, Any]) -> None:
    rejected = figures().rejected_articles
    # Most rejections first; among equals, the one rejected the most often.
    assert [(a.title, a.offered, a.rejected) for a in rejected] == [
        ("(deleted articles)", 1, 1),
        ("Labels", 2, 1),
        ("Refunds", 3, 1),
    ]
    assert rejected[0].article_id is None


def test_two_queries_whatever_the_data(scene: dict[str, Any]) -> None:
    def count() -> int:
        report = metrics(since=DAY, until=DAY, group_by="topic")
        with CaptureQueriesContext(connection) as queries:
            bot_metrics(report=report)
        return len(queries)

    before = count()
    topic = TopicFactory(name="Shop", slug="shop")
    for n in range(15):
        chat = chat_at(created_at=at(15, n), topic=topic)
        answer(chat, "rejected", ArticleFactory(title=f"Extra {n}"))
    assert count() == before == 2


def test_no_bot_no_answers(db: None) -> None:
    report = figures()
    assert not report.any_answers
    assert report.rejected_articles == []
    assert report.totals.resolved_share is None
