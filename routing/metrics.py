"""Supervisors' metrics per agent, topic or day, computed by the database (docs/metrics.md).

Lives in routing (floor 3) because it reads across chat, helpdesk, transcripts and
cannedresponses: ratings are reached through the reverse relation `rating` of Chat (owned by
transcripts) and canned replies through `Message.origin`, so no higher-floor module is imported.

Two queries whatever the range or the number of rows: chats grouped, reply tallies grouped
(chat.models.ReplyTally, about one row per chat and agent, kept as agents reply, so the
messages table is never scanned). Both give sums and counts, so the totals are the groups'
sums; Python only shapes the rows (averages, labels, ratios, missing days).
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from chat.models import Chat, ReplyTally

GroupBy = Literal["agent", "topic", "day"]
GROUP_BY_CHOICES: tuple[GroupBy, ...] = ("agent", "topic", "day")

# CSAT counts a 4 or a 5 out of 5 as a satisfied customer (the usual CSAT convention).
SATISFIED_SCORE = 4


@dataclass(frozen=True)
class MetricsRow:
    key: Any  # agent id, topic id or date; None for chats without an agent
    label: str
    chats: int
    first_response_seconds: float | None
    handling_seconds: float | None
    wait_seconds: float | None
    abandoned: int
    transfers: int
    agent_messages: int
    canned_messages: int
    tone_warnings: int
    ratings: int
    csat_average: float | None
    satisfied: int

    @property
    def abandonment_rate(self) -> float | None:
        return self.abandoned / self.chats if self.chats else None

    @property
    def canned_share(self) -> float | None:
        return self.canned_messages / self.agent_messages if self.agent_messages else None

    @property
    def csat_share(self) -> float | None:
        """Share of ratings that are 4 or 5."""
        return self.satisfied / self.ratings if self.ratings else None


@dataclass(frozen=True)
class MetricsReport:
    since: datetime.date
    until: datetime.date
    group_by: GroupBy
    rows: list[MetricsRow]
    totals: MetricsRow


def _duration(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _chat_aggregates() -> dict[str, Any]:
    """Sums and counts only, never averages: they add up across groups, so the totals are the
    groups' sums and need no second scan of the chats."""
    closed_with_agent = Q(status=Chat.Status.CLOSED, agent__isnull=False, assigned_at__isnull=False)
    # first_agent_response_at is set by the agent's first own message: the automatic greeting
    # does not set it, so it does not flatter the figure.
    answered = Q(first_agent_response_at__isnull=False)
    assigned = Q(assigned_at__isnull=False)
    return {
        "chats": Count("id"),
        "frt_sum": Sum(_duration("first_agent_response_at", "created_at"), filter=answered),
        "frt_n": Count("id", filter=answered),
        "aht_sum": Sum(_duration("closed_at", "assigned_at"), filter=closed_with_agent),
        "aht_n": Count("id", filter=closed_with_agent),
        "wait_sum": Sum(_duration("assigned_at", "created_at"), filter=assigned),
        "wait_n": Count("id", filter=assigned),
        "abandoned": Count("id", filter=Q(close_reason=Chat.CloseReason.ABANDONED)),
        "transfers": Sum("transfer_count"),
        # One rating per chat (a one-to-one), so the join never multiplies chat rows.
        "ratings": Count("rating"),
        "score_sum": Sum("rating__score"),
        "satisfied": Count("rating", filter=Q(rating__score__gte=SATISFIED_SCORE)),
    }


def _message_aggregates() -> dict[str, Any]:
    return {
        "agent_messages": Sum("replies"),
        # Canned responses, automatic greetings and hold replies (chat.models.TEMPLATED_ORIGINS).
        "canned": Sum("templated_replies"),
        "tone": Sum("tone_warned_replies"),
    }


def _mean_seconds(total: datetime.timedelta | None, count: int | None) -> float | None:
    return total.total_seconds() / count if total is not None and count else None


def _sum_rows(rows: Iterable[dict[str, Any]], names: Iterable[str]) -> dict[str, Any]:
    """Add up groups' sums and counts (None where no group had a value)."""
    totals: dict[str, Any] = {}
    for row in rows:
        for name in names:
            value = row.get(name)
            if value is not None:
                totals[name] = value if totals.get(name) is None else totals[name] + value
    return totals


def _person(first: str | None, last: str | None, username: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or username or ""


def _row(key: Any, label: str, chat: dict[str, Any], msg: dict[str, Any]) -> MetricsRow:
    return MetricsRow(
        key=key,
        label=label,
        chats=chat.get("chats") or 0,
        first_response_seconds=_mean_seconds(chat.get("frt_sum"), chat.get("frt_n")),
        handling_seconds=_mean_seconds(chat.get("aht_sum"), chat.get("aht_n")),
        wait_seconds=_mean_seconds(chat.get("wait_sum"), chat.get("wait_n")),
        abandoned=chat.get("abandoned") or 0,
        transfers=chat.get("transfers") or 0,
        agent_messages=msg.get("agent_messages") or 0,
        canned_messages=msg.get("canned") or 0,
        tone_warnings=msg.get("tone") or 0,
        ratings=chat.get("ratings") or 0,
        csat_average=chat["score_sum"] / chat["ratings"] if chat.get("ratings") else None,
        satisfied=chat.get("satisfied") or 0,
    )


def _day_range(since: datetime.date, until: datetime.date) -> Iterable[datetime.date]:
    day = since
    while day <= until:
        yield day
        day += datetime.timedelta(days=1)


def metrics(
    *,
    since: datetime.date,
    until: datetime.date,
    group_by: GroupBy,
    topic_id: int | None = None,
    agent_id: int | None = None,
) -> MetricsReport:
    """Chats created from `since` to `until` (whole days, both included, site time zone).

    Chat figures are grouped by the chat's agent (its latest one), topic or creation day.
    Message figures (canned share, tone warnings) count agent messages of those chats; per
    agent they are grouped by the message's author, so a transferred chat's replies count for
    whoever wrote them.
    """
    if group_by not in GROUP_BY_CHOICES:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BY_CHOICES)}")
    if since > until:
        raise ValueError("since must not be after until")
    tz: ZoneInfo = timezone.get_default_timezone()  # type: ignore[assignment]
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(
        until + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )

    chats: QuerySet[Chat] = Chat.objects.filter(created_at__gte=start, created_at__lt=end)
    messages: QuerySet[ReplyTally] = ReplyTally.objects.filter(
        chat__created_at__gte=start, chat__created_at__lt=end
    )
    if topic_id is not None:
        chats = chats.filter(topic_id=topic_id)
        messages = messages.filter(chat__topic_id=topic_id)
    if agent_id is not None:
        chats = chats.filter(agent_id=agent_id)
        messages = messages.filter(author_id=agent_id)

    if group_by == "agent":
        chat_keys = ("agent", "agent__first_name", "agent__last_name", "agent__username")
        msg_keys = ("author", "author__first_name", "author__last_name", "author__username")
        chat_groups = chats.values(*chat_keys)
        msg_groups = messages.values(*msg_keys)
    elif group_by == "topic":
        chat_keys = ("topic", "topic__name")
        msg_keys = ("chat__topic", "chat__topic__name")
        chat_groups = chats.values(*chat_keys)
        msg_groups = messages.values(*msg_keys)
    else:
        chat_keys = ("day",)
        msg_keys = ("day",)
        chat_groups = chats.annotate(day=TruncDate("created_at", tzinfo=tz)).values("day")
        msg_groups = messages.annotate(day=TruncDate("chat__created_at", tzinfo=tz)).values("day")

    # order_by(): no default ordering may sneak into the GROUP BY.
    chat_rows = list(chat_groups.order_by().annotate(**_chat_aggregates()))
    msg_rows = list(msg_groups.order_by().annotate(**_message_aggregates()))
    # Every figure is a sum or a count and the groups partition the chats and tallies, so the
    # totals are the groups' sums.
    chat_totals = _sum_rows(chat_rows, _chat_aggregates())
    msg_totals = _sum_rows(msg_rows, _message_aggregates())

    # Shaping only: index both result sets by group key and label each group.
    labels: dict[Any, str] = {}
    by_chat: dict[Any, dict[str, Any]] = {}
    by_msg: dict[Any, dict[str, Any]] = {}
    for source, keys, index in ((chat_rows, chat_keys, by_chat), (msg_rows, msg_keys, by_msg)):
        for values in source:
            key = values[keys[0]]
            index[key] = values
            if group_by == "agent":
                labels[key] = _person(*(values[k] for k in keys[1:])) if key else "No agent"
            elif group_by == "topic":
                labels[key] = values[keys[1]]
    if group_by == "day":
        # Every day of the range appears, so a chart shows quiet days as zero, not as a gap.
        keys_in_order: list[Any] = list(_day_range(since, until))
        labels = {day: day.isoformat() for day in keys_in_order}
    else:
        keys_in_order = sorted(labels, key=lambda k: (k is None, labels[k].lower(), k or 0))

    rows = [
        _row(key, labels[key], by_chat.get(key, {}), by_msg.get(key, {})) for key in keys_in_order
    ]
    totals = _row(None, "Total", chat_totals, msg_totals)
    return MetricsReport(since=since, until=until, group_by=group_by, rows=rows, totals=totals)
