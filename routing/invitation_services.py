"""Writes for proactive invitations: the signed offer a check hands out, and the counters of
invitations shown, accepted and dismissed (docs/invitations.md).

Nothing about the visitor is stored. A check hands the widget an *offer*: the rule's id and a
random nonce, signed with the server's secret and dated. Counting an event needs that offer,
so nobody counts for a rule they were never offered, and each offer counts once as shown and
once as accepted *or* dismissed (remembered in the cache for the offer's lifetime; with the
in-memory cache of a development server, per process). The public endpoints are throttled per
address on top of that.
"""

import hashlib
import secrets
from datetime import datetime

from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from routing.errors import InvitationNotFound, InvitationOfferInvalid
from routing.models import InvitationRule, InvitationTally

OFFER_SALT = "routing.invitation.offer"
# An invitation left open in a background tab may still be answered the next morning.
OFFER_MAX_AGE_SECONDS = 24 * 3600
OFFER_MAX_LENGTH = 200


class InvitationEvent(models.TextChoices):
    SHOWN = "shown", "Shown"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


def offer_make(*, rule_id: int) -> str:
    """A signed, dated offer of this rule's invitation, unique per check."""
    return signing.TimestampSigner(salt=OFFER_SALT).sign_object(
        {"r": rule_id, "n": secrets.token_urlsafe(6)}
    )


def offer_rule_id(offer: str) -> int | None:
    """The rule an offer was made for, or None when it is forged, garbled or too old."""
    if len(offer) > OFFER_MAX_LENGTH:
        return None
    try:
        data = signing.TimestampSigner(salt=OFFER_SALT).unsign_object(
            offer, max_age=OFFER_MAX_AGE_SECONDS
        )
    except (signing.BadSignature, ValueError, UnicodeError):
        return None
    rule_id = data.get("r") if isinstance(data, dict) else None
    return rule_id if isinstance(rule_id, int) and not isinstance(rule_id, bool) else None


def _counted_once(*, offer: str, event: str) -> bool:
    """True the first time this offer reports this kind of event: shown once, and accepted or
    dismissed once between them."""
    kind = "shown" if event == InvitationEvent.SHOWN else "outcome"
    digest = hashlib.sha256(offer.encode()).hexdigest()[:40]
    return bool(cache.add(f"routing:invitation:{kind}:{digest}", 1, OFFER_MAX_AGE_SECONDS))


def tally_add(*, rule_id: int, event: str, day: datetime | None = None) -> None:
    """Add one to the rule's counter of this event today (the site's TIME_ZONE), atomically:
    concurrent events each count (an UPDATE of F() + 1; the first of the day inserts)."""
    today = timezone.localdate(day or timezone.now())
    bump = {event: F(event) + 1}
    rows = InvitationTally.objects.filter(rule_id=rule_id, day=today)
    if rows.update(**bump):
        return
    try:
        with transaction.atomic():
            InvitationTally.objects.create(rule_id=rule_id, day=today, **{event: 1})
    except IntegrityError:
        # Another event inserted today's row between our UPDATE and INSERT.
        rows.update(**bump)


def invitation_event_record(
    *, rule_id: int, event: str, offer: str, now: datetime | None = None
) -> bool:
    """Count that an offered invitation was shown, accepted or dismissed. Returns False when
    this offer already counted this (a retry, a replay): nothing changes.

    Raises InvitationNotFound (no such rule) or InvitationOfferInvalid (the offer is not one
    we made for this rule, or is older than OFFER_MAX_AGE_SECONDS).
    """
    if event not in InvitationEvent.values:
        raise InvitationNotFound()
    if not InvitationRule.objects.filter(pk=rule_id).exists():
        raise InvitationNotFound()
    if offer_rule_id(offer) != rule_id:
        raise InvitationOfferInvalid()
    if not _counted_once(offer=offer, event=event):
        return False
    tally_add(rule_id=rule_id, event=event, day=now)
    return True
