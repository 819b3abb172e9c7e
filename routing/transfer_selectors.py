"""Reads for transfers: who a chat can be passed to, and the transfers waiting for an answer.

Every read here costs a fixed number of queries whatever the size of the team (tests pin it).
"""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat import protocol as chat_protocol
from chat.errors import ChatClosed, ChatNotFound, NotYourChat
from chat.models import Chat, Message
from helpdesk.models import Topic
from helpdesk.roles import AGENTS_GROUP, is_supervisor
from routing import transfer_protocol
from routing.models import AgentProfile, Transfer
from routing.selectors import (
    _open_chats_subquery,
    agent_handles,
    available_agents,
    live_connections,
)


def check_sender(chat: Chat | None, user: Any) -> Chat:
    """A chat may be passed on by its agent while it is active, or by a supervisor.

    The same answers as the chat core's: a closed chat is `chat_closed`, someone else's (or a
    queued one) `forbidden`."""
    if chat is None:
        raise ChatNotFound()
    if chat.status == Chat.Status.CLOSED:
        raise ChatClosed()
    if chat.status == Chat.Status.ACTIVE and chat.agent_id == user.pk:
        return chat
    if chat.status == Chat.Status.ACTIVE and is_supervisor(user):
        return chat
    if chat.status == Chat.Status.ACTIVE and chat.agent is not None:
        raise NotYourChat(
            f"This chat is with {chat_protocol.staff_display_name(chat.agent)}; "
            "only they can transfer it."
        )
    raise NotYourChat()


def present_colleagues(
    *, exclude_ids: Collection[int], now: datetime | None = None
) -> list[AgentProfile]:
    """Agents who chose online and have a live console, whatever their load (the console shows
    it), annotated with `open_chats`; least loaded first. Two queries (profiles, skills)."""
    live = live_connections(now=now).filter(agent_id=OuterRef("user_id"))
    return list(
        AgentProfile.objects.filter(
            status=AgentProfile.Status.ONLINE,
            user__is_active=True,
            user__groups__name=AGENTS_GROUP,
        )
        .filter(Exists(live))
        .exclude(user_id__in=[pk for pk in exclude_ids if pk is not None])
        .annotate(open_chats=Coalesce(_open_chats_subquery(), 0))
        .select_related("user")
        .prefetch_related("topics")
        .order_by("open_chats", "user__first_name", "user__username", "pk")
    )


def _skills(profile: AgentProfile) -> set[int]:
    # Prefetched: no query.
    return {topic.pk for topic in profile.topics.all()}


def transfer_targets(*, chat_id: int, agent: Any) -> dict[str, Any]:
    """The `transfer_targets` frame: colleagues online and present (not the sender, not the
    chat's agent) with their load, and the active topics with how many of those colleagues
    handle each. At most five queries whatever the number of agents and topics."""
    chat = Chat.objects.select_related("topic", "agent").filter(pk=chat_id).first()
    check_sender(chat, agent)
    assert chat is not None  # noqa: S101  (check_sender raised otherwise)
    colleagues = present_colleagues(exclude_ids={agent.pk, chat.agent_id})
    skills = {profile.pk: _skills(profile) for profile in colleagues}
    agents = [
        {
            "id": profile.user_id,
            "name": chat_protocol.staff_display_name(profile.user),
            "seniority": profile.seniority,
            "open_chats": profile.open_chats,  # type: ignore[attr-defined]
            "max_chats": profile.max_chats,
            "handles_topic": agent_handles(skills[profile.pk], chat.topic_id),
        }
        for profile in colleagues
    ]
    topics = [
        {
            "slug": topic.slug,
            "name": topic.name,
            "agents_available": sum(
                1 for profile in colleagues if agent_handles(skills[profile.pk], topic.pk)
            ),
        }
        for topic in Topic.objects.filter(is_active=True).order_by("position", "name")
    ]
    frame = transfer_protocol.transfer_targets_frame(chat_id=chat.pk, agents=agents, topics=topics)
    # What an escalation would find now (the console says so before the agent writes a note).
    frame["seniors_available"] = sum(
        1
        for profile in colleagues
        if profile.seniority == AgentProfile.Seniority.SENIOR
        and profile.open_chats < profile.max_chats  # type: ignore[attr-defined]
        and agent_handles(skills[profile.pk], chat.topic_id)
    )
    return frame


def senior_for(
    *, topic_id: int, exclude_ids: Collection[int], now: datetime | None = None
) -> AgentProfile | None:
    """The senior an escalation goes to: online, present, with room, handling the topic
    (skill or no skills), fewest open chats first, then idle longest. Two queries."""
    seniors = (
        available_agents(now=now)
        .filter(seniority=AgentProfile.Seniority.SENIOR)
        .exclude(user_id__in=[pk for pk in exclude_ids if pk is not None])
        .select_related("user")
    )
    for profile in seniors:
        if agent_handles(_skills(profile), topic_id):
            return profile
    return None


def topic_has_agents(*, topic_id: int, exclude_ids: Collection[int]) -> bool:
    """Some active member of Agents (besides those passing the chat on) handles the topic: it
    is one of their skills, or they have none (an agent without a profile yet has none)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=AGENTS_GROUP)
        .exclude(pk__in=[pk for pk in exclude_ids if pk is not None])
        .filter(
            Q(agent_profile__isnull=True)
            | Q(agent_profile__topics__isnull=True)
            | Q(agent_profile__topics=topic_id)
        )
        .exists()
    )


def agent_is_reachable(*, agent_id: int, now: datetime | None = None) -> bool:
    """Chose online and has a live console (capacity is checked when they accept)."""
    live = live_connections(now=now).filter(agent_id=OuterRef("user_id"))
    return (
        AgentProfile.objects.filter(user_id=agent_id, status=AgentProfile.Status.ONLINE)
        .filter(Exists(live))
        .exists()
    )


def expired_transfer_ids(*, now: datetime | None = None) -> list[int]:
    """Pending transfers past their deadline, oldest deadline first (one query)."""
    return list(
        Transfer.objects.filter(
            status=Transfer.Status.PENDING, expires_at__lte=now or timezone.now()
        )
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)
    )


def pending_transfers_frame(*, agent: Any, now: datetime | None = None) -> dict[str, Any]:
    """The `transfers` frame: this agent's transfers still waiting for an answer, those they
    sent (or whose chat is theirs) and those they were asked to accept. A console asks for it
    after every (re)connection. Two queries whatever their number."""
    now = now or timezone.now()
    pending = Transfer.objects.filter(status=Transfer.Status.PENDING, expires_at__gt=now)
    sent = (
        pending.filter(Q(requested_by=agent) | Q(from_agent=agent))
        .select_related("to_agent", "to_topic")
        .order_by("created_at", "pk")
    )
    preview = Subquery(
        Message.objects.filter(chat_id=OuterRef("chat_id"), kind=Message.Kind.CUSTOMER)
        .order_by("-seq")
        .values("body")[:1]
    )
    received = (
        pending.filter(to_agent=agent)
        .select_related(
            "requested_by", "chat__topic", "chat__customer", "chat__agent", "chat__transferred_by"
        )
        .annotate(preview=preview)
        .order_by("created_at", "pk")
    )
    return transfer_protocol.transfers_frame(
        sent=[transfer_protocol.transfer_frame(transfer) for transfer in sent],
        received=[
            transfer_protocol.transfer_request_frame(
                transfer,
                chat_frame=chat_protocol.chat_frame_for_staff(
                    transfer.chat,
                    preview=transfer.preview,  # type: ignore[attr-defined]
                ),
            )
            for transfer in received
        ],
    )
