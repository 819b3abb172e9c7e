"""Reads of routing: who is present, who can take a chat, how loaded each agent is, and where
each queued chat stands (position and estimated wait)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from chat.models import Chat, ChatEvent
from chat.selectors import queue_order
from helpdesk.hours import packed_hours, schedule_from_packed
from helpdesk.roles import AGENTS_GROUP
from routing import protocol
from routing.models import AgentProfile, ConsoleConnection

# How many of a topic's most recently closed chats the queue estimate learns from.
HANDLING_SAMPLE_SIZE = 50


def live_since(*, now: datetime | None = None) -> datetime:
    """Connections seen at or after this moment are live."""
    return (now or timezone.now()) - timedelta(seconds=settings.HELPDESK_PRESENCE_TTL_SECONDS)


def live_connections(*, now: datetime | None = None) -> QuerySet[ConsoleConnection]:
    return ConsoleConnection.objects.filter(last_seen_at__gte=live_since(now=now))


def agent_is_present(*, agent_id: int, now: datetime | None = None) -> bool:
    """Several tabs are one agent: any live connection will do."""
    return live_connections(now=now).filter(agent_id=agent_id).exists()


def open_chat_count(*, agent_id: int) -> int:
    return Chat.objects.filter(agent_id=agent_id, status=Chat.Status.ACTIVE).count()


def _open_chats_subquery() -> Subquery:
    # A subquery, not a join: joined with the topics M2M a Count() would multiply.
    return Subquery(
        Chat.objects.filter(agent_id=OuterRef("user_id"), status=Chat.Status.ACTIVE)
        .order_by()
        .values("agent_id")
        .annotate(n=Count("pk"))
        .values("n")[:1],
        output_field=IntegerField(),
    )


def profiles_with_load(*, now: datetime | None = None) -> QuerySet[AgentProfile]:
    """Every profile with `open_chats` (its active chats), `present` (a live console) and its
    skills, for list screens."""
    live = live_connections(now=now).filter(agent_id=OuterRef("user_id"))
    return AgentProfile.objects.annotate(
        open_chats=Coalesce(_open_chats_subquery(), 0), present=Exists(live)
    ).prefetch_related("topics")


def available_agents(*, now: datetime | None = None) -> QuerySet[AgentProfile]:
    """Agents who may be given a chat now: chose online, have a live console, have room.

    Annotated with `open_chats`, ordered by the policy's preference: fewest open chats, then
    idle longest (never assigned first), then pk for a stable order. The answer may be stale by
    the time it is used: the router re-checks every agent under the agent's row lock.
    """
    live = live_connections(now=now).filter(agent_id=OuterRef("user_id"))
    return (
        AgentProfile.objects.filter(
            status=AgentProfile.Status.ONLINE,
            user__is_active=True,
            user__groups__name=AGENTS_GROUP,
        )
        .filter(Exists(live))
        .annotate(open_chats=Coalesce(_open_chats_subquery(), 0))
        .filter(open_chats__lt=F("max_chats"))
        .order_by("open_chats", F("last_assigned_at").asc(nulls_first=True), "pk")
        .prefetch_related("topics")
    )


def gone_agent_ids(*, agent_ids: list[int] | None = None, now: datetime | None = None) -> list[int]:
    """Ids of the agents (users) who have had no live console for longer than the grace period.

    Those who chose online (they become away) and those still holding active chats (the
    chats go back to the queue). A connection stops being live TTL after it was last seen, so
    a row is still evidence of presence until TTL + grace after that.
    """
    now = now or timezone.now()
    grace = timedelta(seconds=settings.HELPDESK_PRESENCE_GRACE_SECONDS)
    ttl = timedelta(seconds=settings.HELPDESK_PRESENCE_TTL_SECONDS)
    recent = ConsoleConnection.objects.filter(
        agent_id=OuterRef("user_id"), last_seen_at__gte=now - ttl - grace
    )
    holds_chats = Chat.objects.filter(agent_id=OuterRef("user_id"), status=Chat.Status.ACTIVE)
    profiles = AgentProfile.objects.all()
    if agent_ids is not None:
        profiles = profiles.filter(user_id__in=agent_ids)
    return list(
        profiles.filter(Q(status=AgentProfile.Status.ONLINE) | Exists(holds_chats))
        .exclude(Exists(recent))
        .filter(status_changed_at__lt=now - grace)
        .filter(Q(last_disconnected_at__isnull=True) | Q(last_disconnected_at__lt=now - grace))
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


# --- Abandoned chats and the no-reply timeout (docs/routing.md) --------------------------------


def abandoned_chats(*, now: datetime | None = None) -> QuerySet[Chat]:
    """Queued chats whose customer has had no open socket for more than
    HELPDESK_ABANDON_AFTER_SECONDS: last seen (connected, beating, disconnecting) before the
    cutoff, or never connected and created before it. Nothing when the setting is 0 (off)."""
    seconds = settings.HELPDESK_ABANDON_AFTER_SECONDS
    chats = Chat.objects.filter(status=Chat.Status.QUEUED).annotate(
        customer_seen_at=Coalesce("customer_last_seen_at", "created_at")
    )
    if seconds <= 0:
        return chats.none()
    return chats.filter(customer_seen_at__lt=(now or timezone.now()) - timedelta(seconds=seconds))


def abandoned_chat_ids(*, now: datetime | None = None) -> list[int]:
    """The abandoned chats, longest gone first (one query)."""
    return list(
        abandoned_chats(now=now).order_by("customer_seen_at", "pk").values_list("pk", flat=True)
    )


def abandoned_chat_count(
    *, since: datetime | None = None, topic_ids: Iterable[int] | None = None
) -> int:
    """How many chats were closed as abandoned (since a moment, of some topics)."""
    chats = Chat.objects.filter(close_reason=Chat.CloseReason.ABANDONED)
    if since is not None:
        chats = chats.filter(closed_at__gte=since)
    if topic_ids is not None:
        chats = chats.filter(topic_id__in=list(topic_ids))
    return chats.count()


def reply_overdue(
    *,
    awaiting_reply_since: datetime | None,
    assigned_at: datetime | None,
    timeout_seconds: int,
    now: datetime,
) -> bool:
    """The customer has waited for this agent's answer longer than the topic's timeout.

    The wait counts from the later of the customer's unanswered message and the assignment:
    an agent is not blamed for the time the chat spent in the queue. A timeout of 0 is off.
    """
    if timeout_seconds <= 0 or awaiting_reply_since is None or assigned_at is None:
        return False
    waiting_since = max(awaiting_reply_since, assigned_at)
    return now - waiting_since > timedelta(seconds=timeout_seconds)


def unanswered_chat_ids(*, now: datetime | None = None) -> list[int]:
    """Active chats past their topic's reply timeout, longest wait first (one query).

    The candidates are the active chats awaiting an answer in topics with a timeout: at most
    the agents' combined capacity, so the comparison is made here rather than in SQL (the
    same on every database).
    """
    now = now or timezone.now()
    rows = (
        Chat.objects.filter(
            status=Chat.Status.ACTIVE,
            awaiting_reply_since__isnull=False,
            topic__reply_timeout_seconds__gt=0,
        )
        .order_by("awaiting_reply_since", "pk")
        .values_list("pk", "awaiting_reply_since", "assigned_at", "topic__reply_timeout_seconds")
    )
    return [
        pk
        for pk, awaiting, assigned_at, timeout in rows
        if reply_overdue(
            awaiting_reply_since=awaiting,
            assigned_at=assigned_at,
            timeout_seconds=timeout,
            now=now,
        )
    ]


def timed_out_agent_id(*, chat_id: int, queued_at: datetime | None) -> int | None:
    """The agent whose no-reply timeout put this queued chat back in the queue, or who
    transferred it to a topic's queue, if that is why it is queued now (its latest requeue, in
    this stay in the queue, was `no_reply` or a `transfer`): the drain offers it to them last."""
    if queued_at is None:
        return None
    data = (
        ChatEvent.objects.filter(
            chat_id=chat_id,
            kind__in=[ChatEvent.Kind.REQUEUED, ChatEvent.Kind.TRANSFERRED],
            created_at__gte=queued_at,
        )
        .order_by("-created_at", "-pk")
        .values_list("data", flat=True)
        .first()
    )
    if not data or data.get("reason") not in ("no_reply", "transfer"):
        return None
    return data.get("previous_agent")


def agent_handles(skills: set[int], topic_id: int) -> bool:
    """An agent with no skills set handles every topic; with skills, only those topics."""
    return not skills or topic_id in skills


# --- Queue position and estimated wait -------------------------------------------------------


def _estimating_agents(*, now: datetime) -> QuerySet[AgentProfile]:
    """Agents an estimate counts on: chose online, an active agent, and present.

    Present here is a live console, or a console closed less than the grace period ago: a
    reload of the console does not flash "no agent available" to every waiting customer.
    Capacity is not considered: a full agent still frees slots for the queue.
    """
    grace = timedelta(seconds=settings.HELPDESK_PRESENCE_GRACE_SECONDS)
    live = live_connections(now=now).filter(agent_id=OuterRef("user_id"))
    return AgentProfile.objects.filter(
        Exists(live) | Q(last_disconnected_at__gte=now - grace),
        status=AgentProfile.Status.ONLINE,
        user__is_active=True,
        user__groups__name=AGENTS_GROUP,
    )


def eligible_agent_counts(
    *, topic_ids: Iterable[int], now: datetime | None = None
) -> dict[int, int]:
    """For each topic, how many agents an estimate counts on (one query)."""
    generalists: set[int] = set()
    skilled: dict[int, set[int]] = defaultdict(set)
    rows = _estimating_agents(now=now or timezone.now()).values_list("pk", "topics")
    for profile_id, topic_id in rows:
        if topic_id is None:
            generalists.add(profile_id)
        else:
            skilled[topic_id].add(profile_id)
    return {topic_id: len(generalists | skilled[topic_id]) for topic_id in topic_ids}


def mean_handling_seconds(*, topic_ids: Iterable[int]) -> dict[int, float]:
    """For each topic, the mean time from assignment to close of its last
    HANDLING_SAMPLE_SIZE closed chats that had an agent; the setting
    HELPDESK_DEFAULT_HANDLING_SECONDS for a topic without any (one query)."""
    topic_ids = list(topic_ids)
    default = float(settings.HELPDESK_DEFAULT_HANDLING_SECONDS)
    if not topic_ids:
        return {}
    rows = (
        Chat.objects.filter(
            topic_id__in=topic_ids,
            status=Chat.Status.CLOSED,
            agent__isnull=False,
            assigned_at__isnull=False,
            closed_at__isnull=False,
        )
        .annotate(
            recency=Window(
                RowNumber(),
                partition_by=[F("topic_id")],
                order_by=[F("closed_at").desc(), F("pk").desc()],
            )
        )
        .filter(recency__lte=HANDLING_SAMPLE_SIZE)
        .values_list("topic_id", "assigned_at", "closed_at")
    )
    durations: dict[int, list[float]] = defaultdict(list)
    for topic_id, assigned_at, closed_at in rows:
        # A clock step backwards must not make a negative handling time.
        durations[topic_id].append(max((closed_at - assigned_at).total_seconds(), 0.0))
    return {
        topic_id: (
            sum(durations[topic_id]) / len(durations[topic_id]) if durations[topic_id] else default
        )
        for topic_id in topic_ids
    }


@dataclass(frozen=True)
class QueueStanding:
    chat_id: int
    topic_id: int
    position: int
    estimated_wait_seconds: int | None
    agents_available: bool
    message_offered: bool = False

    def frame(self) -> dict[str, Any]:
        return protocol.queue_frame(
            chat_id=self.chat_id,
            position=self.position,
            estimated_wait_seconds=self.estimated_wait_seconds,
            agents_available=self.agents_available,
            message_offered=self.message_offered,
        )


def estimated_wait(*, handling_seconds: float, agents: int, position: int) -> int | None:
    """mean handling time / max(eligible agents, 1) * position, in whole seconds; None when
    no agent of the topic is available."""
    if agents < 1:
        return None
    return round(handling_seconds / max(agents, 1) * position)


def message_offered(
    *, estimated_wait_seconds: int | None, offer_after_seconds: int, open_now: bool
) -> bool:
    """Offer the customer to leave a message instead of waiting: the topic is closed now, no
    agent is available (no estimate), or the estimate passes the topic's threshold (0: off)."""
    if not open_now or estimated_wait_seconds is None:
        return True
    return 0 < offer_after_seconds < estimated_wait_seconds


def queue_standings(
    *, topic_ids: Iterable[int] | None = None, now: datetime | None = None
) -> list[QueueStanding]:
    """Where every queued chat of these topics (all topics: None) stands, in queue order.

    Three queries whatever the number of chats and topics: the queue (with each topic's
    offer threshold, time zone and business hours folded in), the handling times, the agents.
    """
    now = now or timezone.now()
    queued = Chat.objects.filter(status=Chat.Status.QUEUED)
    if topic_ids is not None:
        queued = queued.filter(topic_id__in=list(topic_ids))
    rows = list(
        queue_order(queued)
        .annotate(topic_hours=packed_hours("topic_id"))
        .values_list(
            "pk",
            "topic_id",
            "topic__offer_message_after_seconds",
            "topic__timezone",
            "topic_hours",
        )
    )
    if not rows:
        return []
    topics = {row[1] for row in rows}
    handling = mean_handling_seconds(topic_ids=topics)
    agents = eligible_agent_counts(topic_ids=topics, now=now)
    open_now: dict[int, bool] = {}
    ahead: dict[int, int] = defaultdict(int)
    standings = []
    for chat_id, topic_id, offer_after, zone, hours in rows:
        if topic_id not in open_now:
            open_now[topic_id] = schedule_from_packed(zone, hours).is_open(now)
        ahead[topic_id] += 1
        position = ahead[topic_id]
        wait = estimated_wait(
            handling_seconds=handling[topic_id], agents=agents[topic_id], position=position
        )
        standings.append(
            QueueStanding(
                chat_id=chat_id,
                topic_id=topic_id,
                position=position,
                estimated_wait_seconds=wait,
                agents_available=agents[topic_id] > 0,
                message_offered=message_offered(
                    estimated_wait_seconds=wait,
                    offer_after_seconds=offer_after,
                    open_now=open_now[topic_id],
                ),
            )
        )
    return standings


def queue_frame_for_chat(*, chat_id: int) -> dict[str, Any]:
    """The `queue` frame of one chat: its standing if queued, every field null otherwise."""
    chat = Chat.objects.filter(pk=chat_id).values("status", "topic_id").first()
    if chat is None or chat["status"] != Chat.Status.QUEUED:
        return protocol.not_queued_frame(chat_id=chat_id)
    for standing in queue_standings(topic_ids=[chat["topic_id"]]):
        if standing.chat_id == chat_id:
            return standing.frame()
    # Left the queue between the two reads.
    return protocol.not_queued_frame(chat_id=chat_id)
