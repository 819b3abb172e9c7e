"""Reads of the transcripts app: what an email shows, and which chats a sweep must visit."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.models import Chat, Message
from chat.protocol import staff_display_name
from transcripts.models import Delivery


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
