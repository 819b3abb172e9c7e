"""Reads of the transcripts app: what an email shows, and which chats a sweep must visit."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from chat.customer_selectors import customer_chats, customer_tickets
from chat.models import Chat, Message
from chat.protocol import staff_display_name
from chat.selectors import ConsoleAccess, readable_by
from helpdesk.models import Customer, Ticket
from helpdesk.query_filters import created_between, filter_given
from transcripts.models import Delivery, Rating

# How automated answers (the answer bot's) are labelled in transcripts.
BOT_LABEL = "Automated answer"
# A delivery still pending this long after its last change lost its task: the broker dropped
# the message, or was unreachable when the row committed. Longer than the whole retry schedule
# of the send task, so a delivery being retried is never taken for lost.
STALE_PENDING = timedelta(hours=1)
# Bounded work per sweep run: a backlog is worked off over the next runs.
STALE_SWEEP_BATCH = 500


def stale_pending_delivery_ids(*, now: datetime | None = None) -> list[int]:
    """Deliveries of every kind left pending past STALE_PENDING, oldest first."""
    cutoff = (now or timezone.now()) - STALE_PENDING
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, updated_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:STALE_SWEEP_BATCH]
    )


@dataclass(frozen=True)
class TranscriptLine:
    who: str
    time: str
    body: str
    kind: str

    @property
    def is_system(self) -> bool:
        return self.kind == Message.Kind.SYSTEM


@dataclass(frozen=True)
class Transcript:
    chat: Chat
    zone: str
    started: str
    agent_names: list[str]
    lines: list[TranscriptLine]


def customer_zone(name: str) -> ZoneInfo:
    """The customer's time zone as their browser reported it; the site's zone when they sent
    none or something that is not a zone (the value came from a browser: never trust it)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def transcript_for_customer(*, chat_id: int) -> Transcript:
    """The conversation as the customer saw it: their messages, agents' (first names), system
    lines. Internal notes live in another table and are never read here."""
    chat = Chat.objects.select_related("customer", "topic", "agent").get(pk=chat_id)
    zone = customer_zone(chat.customer.timezone)
    messages = chat.messages.select_related("author").order_by("seq")
    lines: list[TranscriptLine] = []
    agents: list[str] = []
    for message in messages:
        if message.kind == Message.Kind.AGENT and message.author is not None:
            who = staff_display_name(message.author)
            if who not in agents:
                agents.append(who)
        elif message.kind == Message.Kind.CUSTOMER:
            who = chat.customer.first_name
        elif message.kind == Message.Kind.BOT:
            # Written by no person: said so wherever the conversation is shown.
            who = BOT_LABEL
        else:
            who = ""
        when = timezone.localtime(message.created_at, zone).strftime("%H:%M")
        lines.append(TranscriptLine(who=who, time=when, body=message.body, kind=message.kind))
    started = timezone.localtime(chat.created_at, zone).strftime("%d %b %Y, %H:%M")
    return Transcript(chat=chat, zone=str(zone), started=started, agent_names=agents, lines=lines)


def inactive_chats(*, now: datetime | None = None) -> QuerySet[Chat]:
    """Active chats where nobody wrote (customer or agent) since the inactivity limit; none
    when HELPDESK_INACTIVITY_CLOSE_SECONDS is 0 (off)."""
    seconds = settings.HELPDESK_INACTIVITY_CLOSE_SECONDS
    if seconds <= 0:
        return Chat.objects.none()
    cutoff = (now or timezone.now()) - timedelta(seconds=seconds)
    recent = Message.objects.filter(
        kind__in=[Message.Kind.CUSTOMER, Message.Kind.AGENT], created_at__gt=cutoff
    )
    return (
        Chat.objects.filter(status=Chat.Status.ACTIVE)
        .filter(Q(assigned_at__lte=cutoff) | Q(assigned_at__isnull=True, created_at__lte=cutoff))
        .exclude(pk__in=recent.values("chat_id"))
    )


def inactive_chat_ids(*, now: datetime | None = None) -> list[int]:
    return list(inactive_chats(now=now).order_by("pk").values_list("pk", flat=True))


def pending_delivery_ids(*, kind: str) -> list[int]:
    return list(
        Delivery.objects.filter(kind=kind, status=Delivery.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- The integrators' API (/api/v1/ratings/, /api/v1/customers/) ------------------------------


def ratings_for_api(
    *,
    user: Any,
    access: ConsoleAccess,
    score: int | None = None,
    min_score: int | None = None,
    max_score: int | None = None,
    agent_id: int | None = None,
    topic_id: int | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Rating]:
    """Ratings of the chats `user` may read (every chat for supervisors), narrowed by every
    filter given, with the chat, its topic, agent and customer: one query a page. `agent_id`
    is the chat's (latest) agent; the dates are the rating's."""
    ratings = Rating.objects.select_related("chat", "chat__topic", "chat__agent", "chat__customer")
    if not access.is_supervisor:
        readable = Chat.objects.filter(readable_by(user, access=access), pk=OuterRef("chat_id"))
        ratings = ratings.filter(Exists(readable))
    ratings = filter_given(
        ratings,
        score=score,
        score__gte=min_score,
        score__lte=max_score,
        chat__agent_id=agent_id,
        chat__topic_id=topic_id,
    )
    return created_between(ratings, after=created_after, before=created_before)


@dataclass(frozen=True)
class CustomerHistory:
    customer: Customer
    chats: list[Chat]  # with `rating` selected (None without one)
    tickets: list[Ticket]


def customer_history(
    *, customer: Customer, user: Any, access: ConsoleAccess, limit: int
) -> CustomerHistory:
    """A customer's chats that `user` may read, each with its rating, and their tickets: the
    newest `limit` of each, in two queries. The rating is added here, on the floor that owns
    it: chat's selector knows nothing of ratings."""
    chats = list(
        customer_chats(customer=customer, user=user, access=access).select_related("rating")[:limit]
    )
    return CustomerHistory(
        customer=customer, chats=chats, tickets=customer_tickets(customer=customer, limit=limit)
    )
