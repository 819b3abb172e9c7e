"""Reads of routing: who is present, who can take a chat, how loaded each agent is."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat.models import Chat
from helpdesk.roles import AGENTS_GROUP
from routing.models import AgentProfile, ConsoleConnection


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
