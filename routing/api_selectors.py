"""Reads of the integrators' agents API (/api/v1/agents/, docs/api.md): the team as routing sees
it, in a fixed number of queries whatever its size.

An agent is an active member of the Agents group. One without a routing profile yet (never
connected, never configured) shows routing's defaults: offline, the default limit, no skills
(every topic), seniority `agent`.
"""

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat.models import Chat
from helpdesk.models import Topic
from helpdesk.roles import AGENTS_GROUP
from routing.errors import AgentNotFound
from routing.models import AgentProfile
from routing.selectors import live_connections

# What a user without a profile counts as (the model's defaults).
DEFAULT_MAX_CHATS: int = AgentProfile._meta.get_field("max_chats").default  # type: ignore[assignment]


def _open_chats() -> Subquery:
    # A subquery, not a join: a join with the skills would multiply the count.
    return Subquery(
        Chat.objects.filter(agent_id=OuterRef("pk"), status=Chat.Status.ACTIVE)
        .order_by()
        .values("agent_id")
        .annotate(n=Count("pk"))
        .values("n")[:1],
        output_field=IntegerField(),
    )


def agents_for_api(
    *,
    status: str | None = None,
    present: bool | None = None,
    topic: Topic | None = None,
    now: datetime | None = None,
) -> QuerySet[Any]:
    """Active agents (users) with `open_chats` and `present` (a live console) annotated, their
    profile joined and their skills prefetched: two queries per page. Filters: the status
    they chose, whether a console is open, and a topic they handle (a skill, or no skills)."""
    now = now or timezone.now()
    agents = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=AGENTS_GROUP)
        .select_related("agent_profile")
        .annotate(
            open_chats=Coalesce(_open_chats(), 0),
            present=Exists(live_connections(now=now).filter(agent_id=OuterRef("pk"))),
        )
        .prefetch_related(
            Prefetch("agent_profile__topics", queryset=Topic.objects.order_by("name", "pk"))
        )
    )
    if status is not None:
        chosen = Q(agent_profile__status=status)
        if status == AgentProfile.Status.OFFLINE:
            chosen |= Q(agent_profile__isnull=True)
        agents = agents.filter(chosen)
    if present is not None:
        agents = agents.filter(present=present)
    if topic is not None:
        skills = AgentProfile.topics.through.objects.filter(agentprofile__user_id=OuterRef("pk"))
        agents = agents.filter(Exists(skills.filter(topic_id=topic.pk)) | ~Exists(skills))
    return agents


def agent_for_api(*, agent_id: int, now: datetime | None = None) -> Any:
    """One active agent; AgentNotFound (404 `agent_not_found`) for any other user, so the
    answer tells no staff from the rest."""
    agent = agents_for_api(now=now).filter(pk=agent_id).first()
    if agent is None:
        raise AgentNotFound()
    return agent


def topic_by_slug(*, slug: str) -> Topic | None:
    """Any topic, active or not (an agent's skills may name one switched off)."""
    return Topic.objects.filter(slug=slug).first()
