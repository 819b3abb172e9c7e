"""The follow-up offer after a chat and the news subscriptions it leads to: the signed links
(confirm, unsubscribe), the reads the offer sweep needs, and the writes (queue an offer,
confirm or end a subscription).

Kept apart from transcripts/services.py, which holds what every delivery shares (creating the
row, sending it once, recording failures); an offer is one more delivery kind and reuses that.
Rules and guarantees: docs/transcripts.md, "Follow-up offer".
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from chat.models import Chat
from helpdesk.mail import clean_address
from transcripts.models import Delivery, Subscription

logger = logging.getLogger(__name__)

# One salt per purpose: a confirm token can never be replayed as an unsubscribe token (or as
# any other signed value of the site), and the other way round.
CONFIRM_SALT = "transcripts.subscription-confirm"
UNSUBSCRIBE_SALT = "transcripts.subscription-unsubscribe"
# Double opt-in: the confirmation must come soon after the offer. Unsubscribing never expires
# (an old email's link must still work, RFC 8058 expects the header to keep working).
CONFIRM_MAX_AGE = timedelta(days=7)
# Chats closed longer ago than this are never offered: deploying the feature, or a beat that
# was down for days, must not mail customers about chats they have long forgotten.
OFFER_LOOKBACK = timedelta(days=7)
# Bounded work per sweep run: a backlog is worked off over the next runs.
SWEEP_BATCH = 500


# --- Signed links --------------------------------------------------------------------------


def _sign(payload: dict[str, object], *, salt: str) -> str:
    # sign_object is URL-safe base64 plus ':' separators: the address (which may hold '/' or
    # '?') never appears raw in the path.
    return signing.TimestampSigner(salt=salt).sign_object(payload)


def confirm_token(*, email: str, chat_id: int | None = None) -> str:
    return _sign({"e": email.strip().lower(), "c": chat_id}, salt=CONFIRM_SALT)


def unsubscribe_token(*, email: str) -> str:
    return _sign({"e": email.strip().lower()}, salt=UNSUBSCRIBE_SALT)


@dataclass(frozen=True)
class LinkClaim:
    email: str
    chat_id: int | None = None


def _unsign(token: str, *, salt: str, max_age: timedelta | None) -> LinkClaim | None:
    """The claim of a valid token; None for anything forged, altered, expired or malformed."""
    try:
        payload = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    # The signature is ours, but check the shape anyway: a future format change must not 500.
    if not isinstance(payload, dict):
        return None
    email, chat_id = payload.get("e"), payload.get("c")
    if not isinstance(email, str) or clean_address(email) is None:
        return None
    if chat_id is not None and type(chat_id) is not int:
        return None
    return LinkClaim(email=email.lower(), chat_id=chat_id)


def confirm_claim(*, token: str) -> LinkClaim | None:
    return _unsign(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)


def unsubscribe_claim(*, token: str) -> LinkClaim | None:
    return _unsign(token, salt=UNSUBSCRIBE_SALT, max_age=None)


def _absolute(path: str) -> str:
    # Emails are built in a worker, without a request: the public address comes from settings.
    return settings.HELPDESK_PUBLIC_URL.rstrip("/") + path


def confirm_url(*, email: str, chat_id: int | None = None) -> str:
    token = confirm_token(email=email, chat_id=chat_id)
    return _absolute(reverse("subscriptions:confirm", args=[token]))


def unsubscribe_url(*, email: str) -> str:
    token = unsubscribe_token(email=email)
    return _absolute(reverse("subscriptions:unsubscribe", args=[token]))


# --- Selectors ------------------------------------------------------------------------------


def offer_due_chat_ids(*, now: datetime | None = None) -> list[int]:
    """Closed chats whose close is older than HELPDESK_OFFER_DELAY_SECONDS (and within the
    lookback), whose customer agreed to news and offers and gave an email, and that have no
    offer delivery yet (sent, pending or skipped: each chat is decided once)."""
    now = now or timezone.now()
    due = now - timedelta(seconds=settings.HELPDESK_OFFER_DELAY_SECONDS)
    return list(
        Chat.objects.filter(
            status=Chat.Status.CLOSED,
            closed_at__lte=due,
            closed_at__gt=due - OFFER_LOOKBACK,
            customer__consent_marketing=True,
        )
        .exclude(customer__email="")
        .exclude(deliveries__kind=Delivery.Kind.OFFER)
        .order_by("closed_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )


def offer_skip_reason(*, email: str, now: datetime | None = None) -> str:
    """Why this address gets no offer now ("" when it may): it unsubscribed, or an offer went
    to it (any case of the address, any chat) within HELPDESK_OFFER_QUIET_DAYS. An offer still
    pending counts too: two chats closing together must not both send one."""
    address = email.strip().lower()
    subscription = Subscription.objects.filter(email=address).first()
    if subscription is not None and subscription.status == Subscription.Status.UNSUBSCRIBED:
        return "the address unsubscribed from news and offers"
    days = settings.HELPDESK_OFFER_QUIET_DAYS
    if days <= 0:
        return ""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    quiet = f"an offer went to this address within the last {days} days"
    if (
        subscription is not None
        and subscription.last_offer_at
        and subscription.last_offer_at > cutoff
    ):
        return quiet
    earlier = Delivery.objects.filter(kind=Delivery.Kind.OFFER, to_email__iexact=address).filter(
        Q(status=Delivery.Status.SENT, sent_at__gt=cutoff) | Q(status=Delivery.Status.PENDING)
    )
    return quiet if earlier.exists() else ""


# --- Services -------------------------------------------------------------------------------


@transaction.atomic
def offer_queue(*, chat_id: int, now: datetime | None = None) -> Delivery | None:
    """Create the offer delivery of one closed chat, once (the row is unique per chat and
    kind), and queue its send after commit; a `skipped` row with the reason when the address
    is in its quiet period or unsubscribed. None when the chat does not qualify (any more) or
    already has its offer row."""
    # services → emails → offers: imported at call time to keep that chain acyclic.
    from transcripts import services

    chat = Chat.objects.select_related("customer").filter(pk=chat_id).first()
    if chat is None or chat.status != Chat.Status.CLOSED:
        return None
    customer = chat.customer
    if not customer.consent_marketing or not customer.email:
        return None
    return services._delivery_create(
        chat_id=chat_id,
        kind=Delivery.Kind.OFFER,
        to_email=customer.email,
        skip_reason=offer_skip_reason(email=customer.email, now=now),
    )


def offer_sweep(*, now: datetime | None = None) -> list[int]:
    """The beat's work: create (and queue) the offer of every chat now due, each in its own
    transaction (an offer whose task is lost is queued again by services.pending_sweep).
    Returns the ids of the offers created."""
    created = []
    for chat_id in offer_due_chat_ids(now=now):
        delivery = offer_queue(chat_id=chat_id, now=now)
        if delivery is not None:
            created.append(delivery.pk)
    return created


@transaction.atomic
def subscription_confirm(*, email: str, source_chat_id: int | None = None) -> Subscription:
    """The second step of the double opt-in: the address is confirmed (created if missing,
    stored lowercased). Confirming again changes nothing; an address that had unsubscribed
    and now follows a fresh confirm link is subscribed again (it asked to be)."""
    address = email.strip().lower()
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        email=address,
        defaults={
            "status": Subscription.Status.PENDING,
            "source_chat_id": source_chat_id
            if source_chat_id and Chat.objects.filter(pk=source_chat_id).exists()
            else None,
        },
    )
    if subscription.status != Subscription.Status.CONFIRMED:
        subscription.status = Subscription.Status.CONFIRMED
        subscription.confirmed_at = timezone.now()
        subscription.unsubscribed_at = None
        subscription.save(update_fields=["status", "confirmed_at", "unsubscribed_at"])
    return subscription


@transaction.atomic
def subscription_unsubscribe(*, email: str) -> Subscription:
    """No more news and offers to this address. The row is kept (created if the address never
    subscribed) so the offer sweep sees the refusal. Unsubscribing again changes nothing."""
    address = email.strip().lower()
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        email=address, defaults={"status": Subscription.Status.UNSUBSCRIBED}
    )
    if subscription.unsubscribed_at is None or subscription.status != (
        Subscription.Status.UNSUBSCRIBED
    ):
        subscription.status = Subscription.Status.UNSUBSCRIBED
        subscription.unsubscribed_at = timezone.now()
        subscription.save(update_fields=["status", "unsubscribed_at"])
    return subscription
