"""Missed replies: an agent answered after the customer had left, and the answer stayed unseen;
the customer gets it by email with a link back to the chat. The reads the sweep and the email
need, and the writes (one delivery per missed reply).

Sending is every delivery's: a `Delivery(kind=missed_reply, key=<seq of the reply>)` and the
task `transcripts.tasks.delivery_send` (row lock, sent once, retries). Rules and the presence
rule explained: docs/transcripts.md, "Missed replies".
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from chat.models import Chat, Message
from chat.protocol import staff_display_name
from chat.tokens import customer_token_make
from transcripts import offers, selectors
from transcripts.models import Delivery

logger = logging.getLogger(__name__)

# Slack for clocks: presence and messages are stamped by different processes (the customer's
# socket, the agent's), possibly on different machines.
PRESENCE_MARGIN = timedelta(seconds=5)
# Replies older than this are never mailed: deploying the feature, or a beat that was down,
# must not mail customers about answers they have long stopped waiting for.
MISSED_LOOKBACK = timedelta(days=1)
# Bounded work per sweep run: a backlog is worked off over the next runs.
SWEEP_BATCH = 500


# --- Selectors ------------------------------------------------------------------------------


def missed_reply_chats(*, now: datetime | None = None) -> QuerySet[Chat]:
    """Active chats whose customer gave an email and whose latest agent message is unseen:
    older than HELPDESK_MISSED_REPLY_SECONDS (0: off), after the customer's last message, and
    the customer gone. Each carries `reply_seq`, the seq of that message; oldest reply first.

    "Gone" is read from `customer_last_seen_at` (stamped when a customer socket opens, every
    heartbeat while it stays open, and when it closes; `created_at` until the first socket):
    - not seen since the reply: the last presence is older than the reply (minus a margin for
      clocks). A socket open when the reply came stamps a later time at its next beat or its
      close, so a reply older than that presence was never shown live;
    - no socket open now: the last presence is older than one heartbeat plus the margin (an
      open socket would have beaten since). This is what matters when the delay is shorter
      than the heartbeat.
    A customer who closed the tab seconds before the reply does get the email: the rule does
    not ask them to have been gone a whole heartbeat before it.

    Automatic greetings alone are no reply (the customer left before anyone answered).
    """
    delay = settings.HELPDESK_MISSED_REPLY_SECONDS
    if delay <= 0:
        return Chat.objects.none()
    now = now or timezone.now()
    heartbeat = timedelta(seconds=settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS)
    latest = Message.objects.filter(chat=OuterRef("pk")).order_by("-seq")
    agent_latest = latest.filter(kind=Message.Kind.AGENT)
    customer_latest = latest.filter(kind=Message.Kind.CUSTOMER)
    already = Delivery.objects.filter(
        chat=OuterRef("pk"),
        kind=Delivery.Kind.MISSED_REPLY,
        key=Cast(OuterRef("reply_seq"), output_field=CharField()),
    )
    return (
        Chat.objects.filter(status=Chat.Status.ACTIVE)
        .exclude(customer__email="")
        .annotate(
            reply_seq=Subquery(agent_latest.values("seq")[:1]),
            reply_at=Subquery(agent_latest.values("created_at")[:1]),
            reply_origin=Subquery(agent_latest.values("origin")[:1]),
            customer_seq=Coalesce(Subquery(customer_latest.values("seq")[:1]), Value(0)),
            present_at=Coalesce("customer_last_seen_at", "created_at"),
        )
        .filter(
            reply_at__lte=now - timedelta(seconds=delay),
            reply_at__gt=now - MISSED_LOOKBACK,
            reply_seq__gt=F("customer_seq"),
            present_at__lt=F("reply_at") - PRESENCE_MARGIN,
        )
        .filter(present_at__lt=now - heartbeat - PRESENCE_MARGIN)
        .exclude(reply_origin=Message.Origin.GREETING)
        .exclude(Exists(already))
        .order_by("reply_at", "pk")
    )


def missed_reply_chat_ids(*, now: datetime | None = None) -> list[int]:
    """The chats with an unseen reply to mail now, oldest reply first."""
    return list(missed_reply_chats(now=now).values_list("pk", flat=True)[:SWEEP_BATCH])


@dataclass(frozen=True)
class MissedLine:
    time: str
    body: str


@dataclass(frozen=True)
class MissedReply:
    chat: Chat
    agent_name: str
    lines: list[MissedLine]
    chat_url: str


def chat_link(chat: Chat) -> str:
    """The customer's way back into this chat: the customer page reads the token from the
    fragment (never sent to servers or kept in logs) and opens the chat as a stored one."""
    token = customer_token_make(chat_id=chat.pk, customer_key=chat.customer_key)
    return offers._absolute(f"{reverse('chat:customer')}#token={token}")


def missed_reply_for_customer(*, chat_id: int, seq: int) -> MissedReply:
    """What the email of the reply `seq` shows: every agent message after the customer's last
    message before it, up to it (a burst of replies is one email). Read again at send time,
    bounded by `seq`, so a retry shows the same messages. Internal notes live in another table
    and are never read here."""
    chat = Chat.objects.select_related("customer", "agent").get(pk=chat_id)
    zone = selectors.customer_zone(chat.customer.timezone)
    asked = (
        chat.messages.filter(kind=Message.Kind.CUSTOMER, seq__lt=seq)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    ) or 0
    replies = list(
        chat.messages.filter(kind=Message.Kind.AGENT, seq__gt=asked, seq__lte=seq)
        .select_related("author")
        .order_by("seq")
    )
    author = replies[-1].author if replies else None
    author = author or chat.agent
    return MissedReply(
        chat=chat,
        agent_name=staff_display_name(author) if author is not None else "",
        lines=[
            MissedLine(
                time=timezone.localtime(reply.created_at, zone).strftime("%H:%M"), body=reply.body
            )
            for reply in replies
        ],
        chat_url=chat_link(chat),
    )


# --- Services -------------------------------------------------------------------------------


@transaction.atomic
def missed_reply_queue(*, chat_id: int, now: datetime | None = None) -> Delivery | None:
    """Create the delivery of this chat's unseen reply, once (unique per chat, kind and the
    reply's seq), and queue its send after commit. The rule is checked again here: the
    customer may have come back, or written, since the sweep read it. None when nothing is
    due (any more) or the row already exists.

    Consent: the email answers the customer's own question in a chat they opened and left an
    address for; it is service, not marketing, so no news-and-offers consent is asked."""
    # services → emails → missed: imported at call time to keep that chain acyclic.
    from transcripts import services

    due = missed_reply_chats(now=now).filter(pk=chat_id).select_related("customer").first()
    if due is None:
        return None
    return services._delivery_create(
        chat_id=chat_id,
        kind=Delivery.Kind.MISSED_REPLY,
        key=str(due.reply_seq),  # type: ignore[attr-defined]  # the annotation
        to_email=due.customer.email,
    )


def missed_reply_sweep(*, now: datetime | None = None) -> list[int]:
    """The beat's work: create (and queue) the delivery of every unseen reply now due, each
    chat in its own transaction. Returns the ids of the deliveries created."""
    created = []
    for chat_id in missed_reply_chat_ids(now=now):
        delivery = missed_reply_queue(chat_id=chat_id, now=now)
        if delivery is not None:
            logger.info("missed reply of chat %s queued (delivery %s)", chat_id, delivery.pk)
            created.append(delivery.pk)
    return created
