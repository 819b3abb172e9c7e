"""Reads for the supervisors' live page (/admin/live/ and the /ws/supervise/ socket).

`live_snapshot` is the whole page in one frame, built in a constant number of queries whatever
the number of topics, agents and chats (docs/routing.md, "Live monitoring").
"""

from datetime import datetime
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat.models import Chat
from helpdesk.models import Topic
from helpdesk.roles import AGENTS_GROUP
from routing.attention import ATTENTION_LIMIT, _open_waits, _waited_seconds
from routing.models import AgentProfile
from routing.selectors import _open_chats_subquery, live_connections

# The socket's frame type, and the group whose doorbell makes every live page refresh.
LIVE_FRAME = "live"


def _display_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _present(*, now: datetime) -> Exists:
    # A live console tab, the same evidence the router uses (routing.selectors).
    return Exists(live_connections(now=now).filter(agent_id=OuterRef("user_id")))


def _team() -> Any:
    """Agent profiles of active members of Agents (supervisors who never route are left out)."""
    return AgentProfile.objects.filter(user__is_active=True, user__groups__name=AGENTS_GROUP)


def _agents_online_subquery(*, now: datetime) -> Subquery:
    """Per topic: agents who chose online, have a live console and handle it (as a skill, or
    as a generalist without skills). COUNT without GROUP BY: one row per topic."""
    handling = (
        _team()
        .filter(status=AgentProfile.Status.ONLINE)
        .filter(_present(now=now))
        # Each specialist joins the topic once; a generalist's single NULL row counts once.
        .filter(Q(topics=OuterRef("pk")) | Q(topics__isnull=True))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Subquery(handling, output_field=IntegerField())


def _topics(*, now: datetime) -> list[dict[str, Any]]:
    queued = Q(chats__status=Chat.Status.QUEUED)
    rows = (
        Topic.objects.annotate(
            queued=Count("chats", filter=queued),
            oldest_queued_at=Min("chats__queued_at", filter=queued),
            agents_online=Coalesce(_agents_online_subquery(now=now), 0),
        )
        # A topic switched off still shows while customers wait in it.
        .filter(Q(is_active=True) | Q(queued__gt=0))
        .order_by("position", "name", "pk")
    )
    return [
        {
            "id": topic.pk,
            "name": topic.name,
            "queued": topic.queued,
            "longest_wait_seconds": (
                _waited_seconds(topic.oldest_queued_at, now) if topic.oldest_queued_at else None
            ),
            "amber_after": topic.amber_after_seconds,
            "red_after": topic.red_after_seconds,
            "agents_online": topic.agents_online,
        }
        for topic in rows
    ]


def _agents(*, now: datetime) -> list[dict[str, Any]]:
    rows = (
        _team()
        .select_related("user")
        .annotate(open_chats=Coalesce(_open_chats_subquery(), 0), present=_present(now=now))
        .prefetch_related(Prefetch("topics", queryset=Topic.objects.order_by("name")))
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    return [
        {
            "id": profile.user_id,
            "name": _display_name(profile.user),
            "status": profile.status,
            "present": profile.present,
            "open_chats": profile.open_chats,
            "max_chats": profile.max_chats,
            # Empty: a generalist, given chats of every topic.
            "topics": [{"id": t.pk, "name": t.name} for t in profile.topics.all()],
        }
        for profile in rows
    ]


def _red_chats(*, now: datetime) -> list[dict[str, Any]]:
    """Open chats whose customer has waited past the topic's red threshold, flagged yet or not,
    longest wait first. Compared here like routing.attention does: per-topic durations compare
    differently on each database, and the candidates are at most the open chats."""
    rows = (
        _open_waits()
        .select_related("topic", "customer", "agent")
        .order_by("awaiting_reply_since", "pk")
    )
    red = []
    for chat in rows:
        waited = _waited_seconds(chat.awaiting_reply_since, now)
        if waited <= chat.topic.red_after_seconds:
            continue
        red.append(
            {
                "id": chat.pk,
                "status": chat.status,
                "customer": chat.customer.name,
                "topic": {"id": chat.topic_id, "name": chat.topic.name},
                "agent": (
                    {"id": chat.agent_id, "name": _display_name(chat.agent)} if chat.agent else None
                ),
                "waited_seconds": waited,
            }
        )
        if len(red) == ATTENTION_LIMIT:
            break
    return red


def _today(*, now: datetime) -> dict[str, Any]:
    """Counters since local midnight (settings.TIME_ZONE), aggregated in one query."""
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    closed_today = Q(closed_at__gte=midnight)
    answered_today = Q(first_agent_response_at__gte=midnight)
    totals = Chat.objects.filter(
        Q(created_at__gte=midnight) | closed_today | answered_today
    ).aggregate(
        started=Count("pk", filter=Q(created_at__gte=midnight)),
        closed=Count("pk", filter=closed_today),
        abandoned=Count("pk", filter=closed_today & Q(close_reason=Chat.CloseReason.ABANDONED)),
        left_message=Count(
            "pk", filter=closed_today & Q(close_reason=Chat.CloseReason.LEFT_MESSAGE)
        ),
        first_response=Avg(
            ExpressionWrapper(
                F("first_agent_response_at") - F("created_at"), output_field=DurationField()
            ),
            filter=answered_today,
        ),
    )
    first_response = totals.pop("first_response")
    return {
        **totals,
        "average_first_response_seconds": (
            round(first_response.total_seconds()) if first_response is not None else None
        ),
    }


def live_snapshot(*, now: datetime | None = None) -> dict[str, Any]:
    """The live page's `live` frame: queues per topic, agents, red chats and today's counters.

    Five queries whatever the data: topics (with counts and online agents), agents, their
    skills (prefetch), the open waits, today's totals.
    """
    now = now or timezone.now()
    return {
        "type": LIVE_FRAME,
        "server_time": now.isoformat(),
        "topics": _topics(now=now),
        "agents": _agents(now=now),
        "red_chats": _red_chats(now=now),
        "today": _today(now=now),
    }
