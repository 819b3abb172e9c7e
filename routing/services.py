"""Every state change of routing: presence, the agents' chosen status, and assignment.

Services take keyword-only arguments, write inside a transaction and send routing's signal
only after commit. Assignment goes through `chat.services.chat_assign`, which owns the chat's
state machine; routing only decides who gets which chat, under row locks (docs/routing.md).
"""

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from chat import events as chat_events
from chat import services as chat_services
from chat.errors import ChatAlreadyAssigned, ChatClosed, ChatNotFound
from chat.models import Chat
from chat.selectors import queue_order
from chat.services import Participant
from helpdesk.errors import Forbidden
from routing import attention, events, selectors
from routing.errors import AgentAtCapacity, TopicNotYours
from routing.models import AgentProfile, ConsoleConnection
from routing.transfers import transfer_expiry_sweep

logger = logging.getLogger(__name__)

# Statuses an agent may choose from the console (offline is for supervisors and the future
# logout flow; `away` is also what presence sets when the agent is gone).
CHOOSABLE_STATUSES = frozenset({AgentProfile.Status.ONLINE, AgentProfile.Status.AWAY})


@dataclass(frozen=True)
class Assignment:
    chat_id: int
    agent_id: int


def _skip_locked(qs: QuerySet) -> QuerySet:  # type: ignore[type-arg]
    """Lock the rows, skipping those another transaction holds.

    SQLite has no row locks (Django ignores select_for_update there) but it serialises
    writers: our IMMEDIATE transactions take the database's write lock up front.
    """
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs.select_for_update()


def profile_for(*, agent_id: int) -> AgentProfile:
    """The agent's profile, created with the defaults the first time it is needed."""
    profile, _ = AgentProfile.objects.get_or_create(user_id=agent_id)
    return profile


def _lock_profile(agent_id: int) -> AgentProfile:
    try:
        return AgentProfile.objects.select_for_update().get(user_id=agent_id)
    except AgentProfile.DoesNotExist:
        profile_for(agent_id=agent_id)
        return AgentProfile.objects.select_for_update().get(user_id=agent_id)


def _announce_if_available(profile: AgentProfile) -> None:
    if profile.status == AgentProfile.Status.ONLINE:
        transaction.on_commit(
            partial(
                events.agent_available.send, sender=events.agent_available, agent_id=profile.user_id
            )
        )


def assignment_guard(*, chat: Chat, agent: object, assigned_by: object, handover: bool) -> None:
    """Registered with chat_assign and chat_hand_over: no assignment, by the router, by hand
    (`take`) or by a transfer, puts an agent above their limit; and an agent takes by hand
    only chats of their skills (a colleague's transfer may bring any topic). The profile's
    row lock orders concurrent takes, transfers and routers."""
    profile = _lock_profile(agent.pk)  # type: ignore[attr-defined]
    if not handover and assigned_by is not None and assigned_by == agent:
        skills = set(profile.topics.values_list("pk", flat=True))
        if not selectors.agent_handles(skills, chat.topic_id):
            raise TopicNotYours()
    if selectors.open_chat_count(agent_id=profile.user_id) >= profile.max_chats:
        raise AgentAtCapacity()


def queue_scope(user: object) -> list[int] | None:
    """Registered with chat.scopes: an agent sees the queue of their skills (all: none set, or
    no profile yet). One query: every console asks it as it connects."""
    skills = AgentProfile.topics.through.objects.filter(agentprofile__user_id=user.pk)  # type: ignore[attr-defined]
    return list(skills.values_list("topic_id", flat=True)) or None


# --- Presence ----------------------------------------------------------------------------------


@transaction.atomic
def connection_open(*, agent_id: int, channel_name: str) -> None:
    """A console tab opened. An online agent with room may receive chats from now on."""
    # The profile's lock orders this with presence_sweep: a sweep deciding the agent is gone
    # either sees this row or runs before it exists.
    profile = _lock_profile(agent_id)
    now = timezone.now()
    # Two statements, not update_or_create's five (its savepoints): every console of a
    # restarted server opens at once. The profile's lock orders this with any other
    # connection_open of the agent, so the row cannot appear in between.
    reopened = ConsoleConnection.objects.filter(channel_name=channel_name).update(
        agent_id=agent_id, last_seen_at=now
    )
    if not reopened:
        ConsoleConnection.objects.create(
            agent_id=agent_id, channel_name=channel_name, opened_at=now, last_seen_at=now
        )
    _announce_if_available(profile)


@transaction.atomic
def connection_touch(*, agent_id: int, channel_name: str) -> None:
    """A heartbeat of an open tab keeps its connection live."""
    updated = ConsoleConnection.objects.filter(channel_name=channel_name, agent_id=agent_id).update(
        last_seen_at=timezone.now()
    )
    if not updated:
        # The row was swept while the socket stayed open (e.g. the database was unreachable
        # for a while): the tab is alive, so it is a connection again.
        connection_open(agent_id=agent_id, channel_name=channel_name)


@transaction.atomic
def connection_close(*, agent_id: int, channel_name: str) -> None:
    """A console tab closed; presence_sweep decides, after the grace period, if the agent left."""
    ConsoleConnection.objects.filter(channel_name=channel_name, agent_id=agent_id).delete()
    profile_for(agent_id=agent_id)
    AgentProfile.objects.filter(user_id=agent_id).update(last_disconnected_at=timezone.now())


@transaction.atomic
def agent_status_set(*, agent: object, status: str) -> AgentProfile:
    """The agent chose a status. Choosing online makes them available (if a console is open)."""
    if status not in AgentProfile.Status.values:
        raise ValueError(f"unknown agent status {status!r}")
    profile = _lock_profile(agent.pk)  # type: ignore[attr-defined]
    if profile.status != status:
        profile.status = status
        profile.status_changed_at = timezone.now()
        profile.save(update_fields=["status", "status_changed_at"])
        _announce_if_available(profile)
        if status != AgentProfile.Status.ONLINE:
            # Customers of the agent's topics may have lost their last agent.
            queue_publish(topic_ids=_skills_or_all(profile))
    return profile


def presence_sweep() -> list[int]:
    """Agents gone for longer than the grace period: online becomes away, and each of their
    active chats goes back to the front of the queue (the customer is told).

    Each agent is handled in its own transaction under the profile's row lock (skipping one
    another sweep holds), and re-checked under it. Returns the ids of the agents handled.
    """
    handled = [agent_id for agent_id in selectors.gone_agent_ids() if _agent_left(agent_id)]
    _forget_dead_connections()
    # Opportunistically, between the beat task's runs: the other timeouts of routing.
    for sweep in (abandoned_sweep, no_reply_sweep, attention.red_flag_sweep, transfer_expiry_sweep):
        try:
            sweep()
        except Exception:
            logger.exception("%s failed after the presence sweep", sweep.__name__)
    return handled


_sweep_lock = threading.Lock()
_last_socket_sweep = float("-inf")


def presence_sweep_from_sockets() -> None:
    """The sweep the sockets run between the beat task's runs (console heartbeats and
    disconnections): at most once per HELPDESK_PRESENCE_SWEEP_SECONDS in a process, never two
    at once. Every heartbeat used to sweep, and each sweep scans every open chat: a thousand
    consoles made fifty sweeps a second and starved the sockets' database work."""
    global _last_socket_sweep
    if not _sweep_lock.acquire(blocking=False):
        return
    try:
        now = time.monotonic()
        if now - _last_socket_sweep < settings.HELPDESK_PRESENCE_SWEEP_SECONDS:
            return
        _last_socket_sweep = now
        presence_sweep()
    finally:
        _sweep_lock.release()


@transaction.atomic
def _agent_left(agent_id: int) -> bool:
    profile = _skip_locked(AgentProfile.objects.filter(user_id=agent_id)).first()
    if profile is None or agent_id not in selectors.gone_agent_ids(agent_ids=[agent_id]):
        # Another sweep holds it, or the agent came back meanwhile.
        return False
    if profile.status == AgentProfile.Status.ONLINE:
        profile.status = AgentProfile.Status.AWAY
        profile.status_changed_at = timezone.now()
        profile.save(update_fields=["status", "status_changed_at"])
    chat_ids = list(
        Chat.objects.filter(agent_id=agent_id, status=Chat.Status.ACTIVE)
        .order_by("queued_at", "pk")
        .values_list("pk", flat=True)
    )
    # In the order they first queued: requeueing stamps each anew, so the customer who has
    # waited longest stays ahead of the others at the front of the queue.
    for chat_id in chat_ids:
        chat_services.chat_requeue(chat_id=chat_id, reason="agent_left")
    # The agent no longer counts for the estimates of their topics' queues.
    queue_publish(topic_ids=_skills_or_all(profile))
    logger.info("agent %s left: %s chat(s) requeued", agent_id, len(chat_ids))
    return True


def _forget_dead_connections() -> None:
    # Rows of killed processes: once past TTL + grace they no longer prove anything.
    ttl = settings.HELPDESK_PRESENCE_TTL_SECONDS + settings.HELPDESK_PRESENCE_GRACE_SECONDS
    ConsoleConnection.objects.filter(
        last_seen_at__lt=timezone.now() - timedelta(seconds=ttl)
    ).delete()


# --- Assignment --------------------------------------------------------------------------------


def queue_drain(*, limit: int | None = None) -> list[Assignment]:
    """Assign queued chats while some eligible agent can take one; the assignments made.

    One assignment per transaction, so locks are held for a moment only and several processes
    can drain at once: each one skips the chats and agents another has locked.
    """
    made: list[Assignment] = []
    while limit is None or len(made) < limit:
        assignment = _assign_next()
        if assignment is None:
            break
        made.append(assignment)
    return made


class _ChatGone(Exception):
    """The locked chat could not be assigned after all (closed or taken meanwhile)."""


@transaction.atomic
def _assign_next() -> Assignment | None:
    """The longest-waiting chat some agent can take, given to the best such agent.

    An agent with no skills set handles every topic (selectors.agent_handles).
    """
    agents = list(selectors.available_agents())
    if not agents:
        return None
    skills = {agent.pk: {topic.pk for topic in agent.topics.all()} for agent in agents}
    # None: some agent handles every topic, so any queued chat may find one.
    topics: set[int] | None = (
        None if any(not s for s in skills.values()) else set().union(*skills.values())
    )
    exhausted: set[int] = set()  # topics no agent can take a chat of now
    unavailable: set[int] = set()
    gone_chats: set[int] = set()
    while topics is None or topics - exhausted:
        queued = Chat.objects.filter(status=Chat.Status.QUEUED).exclude(pk__in=gone_chats)
        if topics is not None:
            queued = queued.filter(topic_id__in=topics)
        chat = (
            _skip_locked(queue_order(queued.exclude(topic_id__in=exhausted)))
            .values("pk", "topic_id", "queue_priority", "queued_at")
            .first()
        )
        if chat is None:
            return None
        for profile in _candidates(agents, chat):
            if profile.pk in unavailable or not selectors.agent_handles(
                skills[profile.pk], chat["topic_id"]
            ):
                continue
            try:
                assignment = _try_agent(profile, chat_id=chat["pk"])
            except _ChatGone:
                gone_chats.add(chat["pk"])
                break
            if assignment is not None:
                return assignment
            unavailable.add(profile.pk)
        else:
            # No agent of this topic is free now: no other chat of the topic finds one either.
            exhausted.add(chat["topic_id"])
    return None


def _candidates(agents: list[AgentProfile], chat: dict) -> list[AgentProfile]:  # type: ignore[type-arg]
    """The agents in the policy's order, except that the agent whose no-reply timeout requeued
    this chat comes last: they get it back only if nobody else eligible can take it."""
    if not chat["queue_priority"]:
        return agents  # never requeued: no one to put last (and no query)
    timed_out = selectors.timed_out_agent_id(chat_id=chat["pk"], queued_at=chat["queued_at"])
    if timed_out is None:
        return agents
    return [p for p in agents if p.user_id != timed_out] + [
        p for p in agents if p.user_id == timed_out
    ]


def _try_agent(candidate: AgentProfile, *, chat_id: int) -> Assignment | None:
    """Assign the locked chat to the candidate if, under the candidate's row lock, they are
    still online, present and below capacity; None if they cannot take it."""
    profile = (
        _skip_locked(AgentProfile.objects.filter(pk=candidate.pk)).select_related("user").first()
    )
    if profile is None or profile.status != AgentProfile.Status.ONLINE:
        return None
    if not selectors.agent_is_present(agent_id=profile.user_id):
        return None
    # Recounted under the lock: every router assigning to this agent holds the same lock, so
    # the count cannot move until we commit.
    if selectors.open_chat_count(agent_id=profile.user_id) >= profile.max_chats:
        return None
    try:
        chat_services.chat_assign(chat_id=chat_id, agent=profile.user)
    except (Forbidden, AgentAtCapacity):
        # No longer an agent (left the group, deactivated), or full after all: skip them.
        return None
    except (ChatAlreadyAssigned, ChatClosed, ChatNotFound):
        # Taken by hand or closed by the customer since we read the queue.
        raise _ChatGone() from None
    profile.last_assigned_at = timezone.now()
    profile.save(update_fields=["last_assigned_at"])
    return Assignment(chat_id=chat_id, agent_id=profile.user_id)


# --- Abandoned chats and the no-reply timeout --------------------------------------------------


def abandoned_sweep(*, now: datetime | None = None) -> list[int]:
    """Close every queued chat whose customer has been gone longer than
    HELPDESK_ABANDON_AFTER_SECONDS, as abandoned by the system. Returns the ids closed.

    Each chat is closed in its own transaction under its row lock, re-checked under it: a
    router holding the chat (about to assign it) makes the sweep skip it, and a router coming
    after the close finds it closed. So an abandoned chat is never assigned.
    """
    return [chat_id for chat_id in selectors.abandoned_chat_ids(now=now) if _abandon(chat_id, now)]


@transaction.atomic
def _abandon(chat_id: int, now: datetime | None) -> bool:
    locked = (
        _skip_locked(selectors.abandoned_chats(now=now).filter(pk=chat_id))
        .values_list("pk", flat=True)
        .first()
    )
    if locked is None:
        # Another transaction holds it (a router, a message), or the customer came back.
        return False
    chat_services.chat_close(
        chat_id=chat_id, by=Participant.system(), reason=Chat.CloseReason.ABANDONED
    )
    logger.info("chat %s abandoned: its customer left the queue", chat_id)
    return True


def no_reply_sweep(*, now: datetime | None = None) -> list[int]:
    """Offer to another agent every active chat whose customer has waited for its agent's
    answer longer than the topic's `reply_timeout_seconds`: back at the front of the queue
    (`chat_requeue(reason="no_reply")`), and the drain tries that agent last for it.
    Returns the ids requeued."""
    return [
        chat_id for chat_id in selectors.unanswered_chat_ids(now=now) if _time_out(chat_id, now)
    ]


@transaction.atomic
def _time_out(chat_id: int, now: datetime | None) -> bool:
    chat = (
        _skip_locked(Chat.objects.filter(pk=chat_id, status=Chat.Status.ACTIVE))
        .select_related("topic")
        .first()
    )
    if chat is None or not selectors.reply_overdue(
        awaiting_reply_since=chat.awaiting_reply_since,
        assigned_at=chat.assigned_at,
        timeout_seconds=chat.topic.reply_timeout_seconds,
        now=now or timezone.now(),
    ):
        # Locked by another transaction, answered, closed or requeued meanwhile.
        return False
    chat_services.chat_requeue(chat_id=chat_id, reason="no_reply")
    attention.flag_no_reply(chat_id=chat_id, previous_agent_id=chat.agent_id)
    logger.info("chat %s unanswered by agent %s: requeued", chat_id, chat.agent_id)
    return True


# --- Queue standing ----------------------------------------------------------------------------


def _skills_or_all(profile: AgentProfile) -> list[int] | None:
    """The topics an agent's availability matters to: their skills, or every topic (None)."""
    return list(profile.topics.values_list("pk", flat=True)) or None


def queue_publish(*, topic_ids: Iterable[int] | None = None) -> None:
    """Tell every queued customer of these topics (every topic: None) where they stand.

    One `queue` frame per queued chat, to that chat's customer group only. The standings are
    computed when the frames go out, after commit, not when the change was made: by then
    other callbacks of the same commit (a drain, say) may have moved the queue again, and a
    position computed earlier would arrive last and stay on the customer's screen.
    """
    topics = None if topic_ids is None else list(topic_ids)
    transaction.on_commit(partial(_publish_standings, topic_ids=topics))


def _publish_standings(*, topic_ids: list[int] | None, from_chat: int | None = None) -> None:
    standings = selectors.queue_standings(topic_ids=topic_ids)
    if from_chat is not None:
        # Only this chat and the ones behind it (none, unless another start committed first).
        ids = [standing.chat_id for standing in standings]
        standings = standings[ids.index(from_chat) :] if from_chat in ids else []
    for standing in standings:
        chat_events.publish_now(
            groups=[chat_events.customer_group(standing.chat_id)], frame=standing.frame()
        )


def queue_publish_for_agent(*, agent_id: int) -> None:
    """An agent became available: the queues of the topics they handle change."""
    queue_publish(topic_ids=_skills_or_all(profile_for(agent_id=agent_id)))


def queue_publish_for_new_chat(*, chat_id: int) -> None:
    """A chat joined its topic's queue behind the others: it learns where it stands, and so
    do the chats behind it, if any. The chats ahead of it keep their standing: telling each of
    them again would cost one frame per queued chat for every start, quadratic in a storm of
    starts (tests/integration/drills/test_drill_assignment_storm.py)."""
    topic_id = Chat.objects.filter(pk=chat_id).values_list("topic_id", flat=True).first()
    if topic_id is not None:
        transaction.on_commit(partial(_publish_standings, topic_ids=[topic_id], from_chat=chat_id))


def queue_publish_for_chat(*, chat_id: int) -> None:
    """A chat entered, left or moved in its topic's queue (or closed, which moves the mean)."""
    topic_id = Chat.objects.filter(pk=chat_id).values_list("topic_id", flat=True).first()
    if topic_id is not None:
        queue_publish(topic_ids=[topic_id])
