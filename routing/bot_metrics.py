"""The answer bot's figures for the supervisors' metrics page (docs/metrics.md, "Answer bot"):
per agent, topic or day like the rest of the page, the chats the bot answered, the chats it
resolved (closed as `resolved_by_bot`) and their share of all chats, and its answers that
customers rejected, with the articles rejected most (the ones to improve).

The bot's tables belong to cannedresponses; routing reaches them by name, as it reaches
transcripts' ratings through a relation, so no floor-3 app imports another. Two grouped
queries whatever the range or the number of rows, on the small answer tables.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from chat.models import Chat
from routing.metrics import MetricsReport

# cannedresponses.models.BotAnswer.Feedback values (named here, not imported: see above).
HELPFUL = "helpful"
REJECTED = "rejected"
TOP_REJECTED_ARTICLES = 10


@dataclass(frozen=True)
class BotMetricsRow:
    key: Any
    label: str
    chats: int  # every chat of the group (the main report's figure)
    bot_chats: int  # chats the bot answered at least once
    resolved: int  # chats closed as resolved by the bot
    answers: int
    helpful: int
    rejected: int

    @property
    def resolved_share(self) -> float | None:
        """Share of all chats of the group that the bot resolved."""
        return self.resolved / self.chats if self.chats else None

    @property
    def rejected_share(self) -> float | None:
        """Share of the bot's answers that customers said did not answer their question."""
        return self.rejected / self.answers if self.answers else None


@dataclass(frozen=True)
class RejectedArticle:
    article_id: int | None  # None: the article was deleted since
    title: str
    offered: int
    rejected: int


@dataclass(frozen=True)
class BotMetricsReport:
    rows: list[BotMetricsRow]
    totals: BotMetricsRow
    rejected_articles: list[RejectedArticle]

    @property
    def any_answers(self) -> bool:
        return self.totals.answers > 0


def _aggregates() -> dict[str, Any]:
    resolved = Q(chat__close_reason=Chat.CloseReason.RESOLVED_BY_BOT)
    # Distinct chats per group: the groups partition the chats, so the totals are their sums.
    return {
        "bot_chats": Count("chat", distinct=True),
        "resolved": Count("chat", distinct=True, filter=resolved),
        "answers": Count("id"),
        "helpful": Count("id", filter=Q(feedback=HELPFUL)),
        "rejected": Count("id", filter=Q(feedback=REJECTED)),
    }


def _sum(rows: Iterable[dict[str, Any]], name: str) -> int:
    return sum(row.get(name) or 0 for row in rows)


def bot_metrics(
    *, report: MetricsReport, topic_id: int | None = None, agent_id: int | None = None
) -> BotMetricsReport:
    """The bot's figures for the chats of `report` (same range, grouping and filters: pass
    the topic and agent the report was made with). Rows follow the report's rows."""
    tz: ZoneInfo = timezone.get_default_timezone()  # type: ignore[assignment]
    start = datetime.datetime.combine(report.since, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(
        report.until + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    answer_model = apps.get_model("cannedresponses", "BotAnswer")
    article_model = apps.get_model("cannedresponses", "BotAnswerArticle")
    answers: QuerySet[Any] = answer_model.objects.filter(
        chat__created_at__gte=start, chat__created_at__lt=end
    )
    offered: QuerySet[Any] = article_model.objects.filter(
        answer__chat__created_at__gte=start, answer__chat__created_at__lt=end
    )
    if topic_id is not None:
        answers = answers.filter(chat__topic_id=topic_id)
        offered = offered.filter(answer__chat__topic_id=topic_id)
    if agent_id is not None:
        answers = answers.filter(chat__agent_id=agent_id)
        offered = offered.filter(answer__chat__agent_id=agent_id)

    # The report's chat grouping: the chat's (latest) agent, its topic, its creation day.
    if report.group_by == "agent":
        groups = answers.values("chat__agent")
        key_name = "chat__agent"
    elif report.group_by == "topic":
        groups = answers.values("chat__topic")
        key_name = "chat__topic"
    else:
        groups = answers.annotate(day=TruncDate("chat__created_at", tzinfo=tz)).values("day")
        key_name = "day"
    # order_by(): no default ordering may sneak into the GROUP BY.
    grouped = list(groups.order_by().annotate(**_aggregates()))
    by_key = {row[key_name]: row for row in grouped}

    rows = []
    for report_row in report.rows:
        row = by_key.get(report_row.key, {})
        rows.append(_row(report_row.key, report_row.label, report_row.chats, row))
    totals_source = {name: _sum(grouped, name) for name in _aggregates()}
    totals = _row(None, "Total", report.totals.chats, totals_source)

    top = (
        offered.values("article")
        .order_by()
        .annotate(
            label=Max("title"),
            times_offered=Count("id"),
            times_rejected=Count("id", filter=Q(answer__feedback=REJECTED)),
        )
        .filter(times_rejected__gte=1)
        # Most rejections first; among equals, the one offered least (rejected the most often).
        .order_by("-times_rejected", "times_offered", "label")[:TOP_REJECTED_ARTICLES]
    )
    rejected_articles = [
        RejectedArticle(
            article_id=item["article"],
            title=item["label"] if item["article"] is not None else "(deleted articles)",
            offered=item["times_offered"],
            rejected=item["times_rejected"],
        )
        for item in top
    ]
    return BotMetricsReport(rows=rows, totals=totals, rejected_articles=rejected_articles)


def _row(key: Any, label: str, chats: int, values: dict[str, Any]) -> BotMetricsRow:
    return BotMetricsRow(
        key=key,
        label=label,
        chats=chats,
        bot_chats=values.get("bot_chats") or 0,
        resolved=values.get("resolved") or 0,
        answers=values.get("answers") or 0,
        helpful=values.get("helpful") or 0,
        rejected=values.get("rejected") or 0,
    )
