"""Reads of the helpdesk core."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from helpdesk.hours import PACKED_HOURS, packed_hours, schedule_of
from helpdesk.models import Ticket, TicketReply, Topic


def topic_list_active() -> QuerySet[Topic]:
    """Active topics in the widget's order, each with its business hours folded in (the
    `packed_hours` annotation): whether they are open costs no further query."""
    return (
        Topic.objects.filter(is_active=True)
        .annotate(**{PACKED_HOURS: packed_hours("pk")})
        .order_by("position", "name")
    )


def topic_get_active(*, slug: str) -> Topic | None:
    return topic_list_active().filter(slug=slug).first()


# --- Business hours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicAvailability:
    topic: Topic
    open_now: bool
    # When a closed topic opens next (in its own zone); None while open.
    opens_at: datetime | None

    @property
    def slug(self) -> str:
        return self.topic.slug

    @property
    def name(self) -> str:
        return self.topic.name


def topic_availability(*, topic: Topic, at: datetime | None = None) -> TopicAvailability:
    schedule = schedule_of(topic)
    at = at or timezone.now()
    return TopicAvailability(
        topic=topic, open_now=schedule.is_open(at), opens_at=schedule.next_opening(at)
    )


def topic_list_active_with_availability(*, at: datetime | None = None) -> list[TopicAvailability]:
    """Active topics in the widget's order, each open now or not: one query whatever the
    number of topics."""
    at = at or timezone.now()
    return [topic_availability(topic=topic, at=at) for topic in topic_list_active()]


# --- Tickets ----------------------------------------------------------------------------------


def ticket_open_count() -> int:
    return Ticket.objects.filter(status=Ticket.Status.OPEN).count()


def ticket_list(*, status: str = Ticket.Status.OPEN, limit: int = 200) -> QuerySet[Ticket]:
    """Tickets of one status, newest first, with what a list row shows (one query)."""
    return (
        Ticket.objects.filter(status=status)
        .select_related("topic", "customer")
        .order_by("-created_at", "-pk")[:limit]
    )


def ticket_get(*, ticket_id: int) -> Ticket | None:
    """A ticket with its topic, customer and replies (and their authors)."""
    return (
        Ticket.objects.select_related("topic", "customer")
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=TicketReply.objects.select_related("author").order_by("created_at", "pk"),
            )
        )
        .filter(pk=ticket_id)
        .first()
    )


def ticket_transcript(*, ticket: Ticket) -> list[Any]:
    """The messages of the chat the ticket was left from, oldest first (empty without one).

    One query. The model is looked up by name, like the string relation `Ticket.chat`: the
    helpdesk core (floor 1) never imports chat (floor 2).
    """
    if ticket.chat_id is None:
        return []
    message_model = apps.get_model("chat", "Message")
    return list(
        message_model.objects.filter(chat_id=ticket.chat_id)
        .select_related("author")
        .order_by("seq")
    )


def tickets_for_email(*, email: str, limit: int = 10) -> list[Ticket]:
    """A customer's tickets, newest first (the console's customer history); one query."""
    if not email:
        return []
    return list(
        Ticket.objects.filter(email__iexact=email)
        .select_related("topic")
        .order_by("-created_at", "-pk")[:limit]
    )
