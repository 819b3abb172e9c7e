"""Reads of the live chat, shaped for the sockets and pages that need them."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from chat import protocol, scopes
from chat.errors import ChatNotFound
from chat.models import Chat, ChatEvent, ChatNote, Message
from chat.tokens import customer_key_matches, customer_token_read
from helpdesk.models import Customer, Topic
from helpdesk.roles import AGENTS_GROUP, SUPERVISORS_GROUP, is_supervisor, staff_roles
from helpdesk.selectors import tickets_for_email

RESUME_BATCH = 200
CONSOLE_QUEUE_LIMIT = 200


def last_customer_message_body(*, chat_id: int) -> str | None:
    return (
        Message.objects.filter(chat_id=chat_id, kind=Message.Kind.CUSTOMER)
        .order_by("-seq")
        .values_list("body", flat=True)
        .first()
    )


def chat_get_by_customer_token(*, token: str) -> Chat | None:
    claim = customer_token_read(token)
    if claim is None:
        return None
    chat = (
        Chat.objects.select_related("topic", "customer", "agent").filter(pk=claim.chat_id).first()
    )
    if chat is None or not customer_key_matches(claim=claim, customer_key=chat.customer_key):
        return None
    return chat


@dataclass(frozen=True)
class ConsoleAccess:
    # The topics whose queue the console follows (None: every topic).
    queue_topics: frozenset[int] | None
    is_supervisor: bool


def console_access(*, user: Any) -> ConsoleAccess | None:
    """What a console of this user follows, or None when the user may not use the console."""
    roles = staff_roles(user)
    if AGENTS_GROUP not in roles:
        return None
    return _access(user, supervisor=SUPERVISORS_GROUP in roles)


def staff_access(*, user: Any) -> ConsoleAccess:
    """What a staff member sees: the queues they follow, and whether they supervise."""
    return _access(user, supervisor=is_supervisor(user))


def _access(user: Any, *, supervisor: bool) -> ConsoleAccess:
    return ConsoleAccess(
        queue_topics=None if supervisor else scopes.queue_topics(user), is_supervisor=supervisor
    )


def readable_by(agent: Any, *, access: ConsoleAccess) -> Q:
    """The chats a staff member may read: theirs, those waiting in the queues they see, and
    those they held before (read-only once passed on). Supervisors read every chat."""
    if access.is_supervisor:
        return Q()
    queued = Q(status=Chat.Status.QUEUED)
    if access.queue_topics is not None:
        queued &= Q(topic_id__in=access.queue_topics)
    held_before = Exists(
        ChatEvent.objects.filter(
            chat_id=OuterRef("pk"),
            kind__in=[ChatEvent.Kind.ASSIGNED, ChatEvent.Kind.TRANSFERRED],
            data__agent=agent.pk,
        )
    )
    return Q(agent_id=agent.pk) | queued | held_before


def chat_get_for_agent(*, chat_id: int, agent: Any, access: ConsoleAccess | None = None) -> Chat:
    """A chat a staff member may read (`readable_by`); ChatNotFound for any other.

    A console passes the access it computed when it opened (one query per frame instead of
    three or four); other callers let it be computed now.
    """
    access = access or staff_access(user=agent)
    chat = (
        Chat.objects.select_related("topic", "customer", "agent", "transferred_by")
        .filter(pk=chat_id)
        .first()
    )
    # `readable_by`, decided on the loaded row: a console resuming its own chats (every one
    # of them after a server restart) costs one plain query, not the held-before subquery.
    if chat is None:
        raise ChatNotFound()
    if (
        access.is_supervisor
        or chat.agent_id == agent.pk
        or (
            chat.status == Chat.Status.QUEUED
            and (access.queue_topics is None or chat.topic_id in access.queue_topics)
        )
        or Chat.objects.filter(readable_by(agent, access=access), pk=chat_id).exists()
    ):
        return chat
    raise ChatNotFound()


def chat_frame_for_agent(
    *, chat_id: int, agent: Any, access: ConsoleAccess | None = None
) -> dict[str, Any]:
    """The staff `chat` frame of a chat the staff member may read."""
    chat = chat_get_for_agent(chat_id=chat_id, agent=agent, access=access)
    return protocol.chat_frame_for_staff(chat, preview=last_customer_message_body(chat_id=chat.pk))


def _message_frames_after(*, chat: Chat, after_seq: int) -> tuple[list[dict[str, Any]], bool]:
    """The next batch of a chat's messages after `after_seq`, and whether more follow."""
    rows = list(
        Message.objects.filter(chat_id=chat.pk, seq__gt=after_seq)
        .select_related("author")
        .order_by("seq")[: RESUME_BATCH + 1]
    )
    customer_name = chat.customer.name
    frames = [
        protocol.message_frame(message, customer_name=customer_name)
        for message in rows[:RESUME_BATCH]
    ]
    return frames, len(rows) > RESUME_BATCH


def message_frames_for_customer(
    *, chat_id: int, after_seq: int
) -> tuple[list[dict[str, Any]], bool]:
    chat = Chat.objects.select_related("customer").filter(pk=chat_id).first()
    if chat is None:
        raise ChatNotFound()
    return _message_frames_after(chat=chat, after_seq=after_seq)


def message_frames_for_agent(
    *, chat_id: int, agent: Any, after_seq: int, access: ConsoleAccess | None = None
) -> tuple[list[dict[str, Any]], bool]:
    chat = chat_get_for_agent(chat_id=chat_id, agent=agent, access=access)
    return _message_frames_after(chat=chat, after_seq=after_seq)


def queue_order(chats: QuerySet[Chat]) -> QuerySet[Chat]:
    """The queue's order: chats whose agent left first, then by time in the queue."""
    return chats.order_by("-queue_priority", "queued_at", "pk")


def console_chat_frames(
    *, agent: Any, queue_topics: frozenset[int] | None = None
) -> list[dict[str, Any]]:
    """What an agent's console shows on (re)connect: their open chats, then the queue of the
    topics they see (every topic: None).

    Two queries whatever the number of chats (asserted in tests); the queue is cut at the
    CONSOLE_QUEUE_LIMIT longest-waiting chats.
    """
    last_customer_body = Subquery(
        Message.objects.filter(chat_id=OuterRef("pk"), kind=Message.Kind.CUSTOMER)
        .order_by("-seq")
        .values("body")[:1]
    )
    base = (
        Chat.objects.select_related("topic", "customer", "agent", "transferred_by")
        .annotate(preview=last_customer_body)
        # Longest wait first, answered chats (NULL) last: SQLite would sort NULLs first.
        .order_by(F("awaiting_reply_since").asc(nulls_last=True), "created_at")
    )
    mine = list(base.filter(agent_id=agent.pk, status=Chat.Status.ACTIVE))
    queued = base.filter(status=Chat.Status.QUEUED)
    if queue_topics is not None:
        queued = queued.filter(topic_id__in=queue_topics)
    queue = list(queue_order(queued)[:CONSOLE_QUEUE_LIMIT])
    return [protocol.chat_frame_for_staff(chat, preview=chat.preview) for chat in mine + queue]


# --- The summary panel: a chat at a glance, and the customer's history -----------------------

HISTORY_LIMIT = 10


def _waits(*, created_at: Any, rows: list[tuple[str, Any]], closed: bool, now: Any) -> int:
    """Seconds the customer spent waiting for an answer: from the start (or their first
    message after an answer) until the next agent message; the current wait included."""
    total = 0.0
    waiting_since = created_at
    for kind, at in rows:
        if kind == Message.Kind.CUSTOMER and waiting_since is None:
            waiting_since = at
        elif kind == Message.Kind.AGENT and waiting_since is not None:
            total += max((at - waiting_since).total_seconds(), 0.0)
            waiting_since = None
    if waiting_since is not None and not closed:
        total += max((now - waiting_since).total_seconds(), 0.0)
    return round(total)


def _transfers(chat: Chat) -> list[dict[str, Any]]:
    events = list(
        ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.TRANSFERRED)
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    # Receivers named in the events, agents by id and topics by slug: a query for each kind
    # (none when there is no such transfer).
    ids = {e.data.get("agent") for e in events if e.data.get("agent")}
    names = {
        user.pk: protocol.staff_display_name(user)
        for user in get_user_model().objects.filter(pk__in=ids)
    }
    slugs = {e.data.get("topic") for e in events if e.data.get("topic")}
    topics = dict(Topic.objects.filter(slug__in=slugs).values_list("slug", "name"))
    return [
        {
            "at": e.created_at.isoformat(),
            "kind": e.data.get("kind", "agent"),
            "by": protocol.staff_display_name(e.actor) if e.actor else None,
            "to": names.get(e.data.get("agent"))
            or topics.get(e.data.get("topic"), e.data.get("topic")),
            "note": e.data.get("note") or None,
        }
        for e in events
    ]


def _same_customer(customer: Customer) -> Q:
    """Chats of the same person: their own record (one for a verified widget identity, whose
    chats all share it) and chats left under the same email."""
    rule = Q(customer_id=customer.pk)
    if customer.email:
        rule |= Q(customer__email__iexact=customer.email)
    return rule


def _history(chat: Chat) -> dict[str, list[dict[str, Any]]]:
    email = chat.customer.email
    if not email and not chat.customer.external_id:
        return {"chats": [], "tickets": []}
    earlier = (
        Chat.objects.filter(_same_customer(chat.customer))
        .exclude(pk=chat.pk)
        .select_related("topic", "agent")
        .order_by("-created_at", "-pk")[:HISTORY_LIMIT]
    )
    chats = [
        {
            "id": other.pk,
            "created_at": other.created_at.isoformat(),
            "closed_at": other.closed_at.isoformat() if other.closed_at else None,
            "status": other.status,
            "topic": other.topic.name,
            "agent": protocol.staff_display_name(other.agent) if other.agent else None,
            "url": reverse("chat:console-transcript", args=[other.pk]),
        }
        for other in earlier
    ]
    tickets = [
        {
            "reference": ticket.reference,
            "created_at": ticket.created_at.isoformat(),
            "status": ticket.status,
            "topic": ticket.topic.name,
            "url": reverse("helpdesk:ticket-detail", args=[ticket.pk]),
        }
        for ticket in (tickets_for_email(email=email, limit=HISTORY_LIMIT) if email else [])
    ]
    return {"chats": chats, "tickets": tickets}


def chat_summary_frame(
    *, chat_id: int, agent: Any, access: ConsoleAccess | None = None, now: Any = None
) -> dict[str, Any]:
    """The `summary` frame of a chat the staff member may read: what a pane shows beside the
    conversation. A fixed number of queries whatever the length of the chat or history."""
    chat = chat_get_for_agent(chat_id=chat_id, agent=agent, access=access)
    now = now or timezone.now()
    rows = list(
        Message.objects.filter(chat=chat)
        # Automated answers are no one's reply: the customer still waits for a person.
        .exclude(kind__in=[Message.Kind.SYSTEM, Message.Kind.BOT])
        .order_by("seq")
        .values_list("kind", "created_at", "origin")
    )
    customer_bodies = Message.objects.filter(chat=chat, kind=Message.Kind.CUSTOMER)
    first = customer_bodies.order_by("seq").values("body", "created_at").first()
    last = customer_bodies.order_by("-seq").values("body", "created_at").first()
    unanswered = 0
    for kind, _at, _origin in reversed(rows):
        if kind == Message.Kind.AGENT:
            break
        unanswered += 1
    agent_origins = [origin for kind, _at, origin in rows if kind == Message.Kind.AGENT]
    notes = ChatNote.objects.filter(chat=chat).select_related("author").order_by("created_at")
    return {
        "type": "summary",
        "chat": chat.pk,
        "status": chat.status,
        "topic": {"slug": chat.topic.slug, "name": chat.topic.name},
        "customer": {
            "name": chat.customer.name,
            "email": chat.customer.email or None,
            # Proven by the site that embeds the widget (docs/widget-identity.md).
            "verified": bool(chat.customer.external_id),
            "external_id": chat.customer.external_id or None,
        },
        "agent": (
            {"id": chat.agent.pk, "name": protocol.staff_display_name(chat.agent)}
            if chat.agent
            else None
        ),
        "created_at": chat.created_at.isoformat(),
        "waited_seconds": _waits(
            created_at=chat.created_at,
            rows=[(kind, at) for kind, at, _origin in rows],
            closed=chat.status == Chat.Status.CLOSED,
            now=now,
        ),
        "awaiting_reply_since": (
            chat.awaiting_reply_since.isoformat() if chat.awaiting_reply_since else None
        ),
        "first_question": (
            {"body": first["body"], "at": first["created_at"].isoformat()} if first else None
        ),
        "last_customer_message": (
            {"body": last["body"], "at": last["created_at"].isoformat()} if last else None
        ),
        "unanswered_count": unanswered,
        "agent_messages": len(agent_origins),
        # Too many canned replies feel robotic: the share is shown to the agent.
        "canned_messages": sum(
            1 for origin in agent_origins if origin in (Message.Origin.CANNED, "greeting", "hold")
        ),
        "on_hold_since": chat.on_hold_since.isoformat() if chat.on_hold_since else None,
        "notes": [protocol.note_frame(note) for note in notes],
        "transfers": _transfers(chat),
        "history": _history(chat),
    }


def chat_for_transcript(*, chat_id: int, agent: Any) -> tuple[Chat, list[Message], list[ChatNote]]:
    """A chat's whole conversation and notes for the staff transcript page: a chat the staff
    member may read, or an earlier chat of a customer they are serving now (the summary's
    history links here). ChatNotFound for any other."""
    access = staff_access(user=agent)
    serving_by_email = Chat.objects.filter(
        agent_id=agent.pk, status=Chat.Status.ACTIVE, customer__email__iexact=OuterRef("email")
    ).exclude(customer__email="")
    serving_by_record = Chat.objects.filter(
        agent_id=agent.pk, status=Chat.Status.ACTIVE, customer_id=OuterRef("pk")
    )
    rule = readable_by(agent, access=access)
    if not access.is_supervisor:
        # (For a supervisor `rule` is the empty Q, "every chat": OR-ing it would narrow it.)
        serving = Exists(serving_by_email) | Exists(serving_by_record)
        rule |= Q(customer__in=Customer.objects.filter(serving))
    chat = (
        Chat.objects.select_related("topic", "customer", "agent", "transferred_by")
        .filter(rule, pk=chat_id)
        .first()
    )
    if chat is None:
        raise ChatNotFound()
    messages = list(chat.messages.select_related("author").order_by("seq"))
    notes = list(chat.notes.select_related("author").order_by("created_at", "pk"))
    return chat, messages, notes
