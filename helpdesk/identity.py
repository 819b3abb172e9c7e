"""Widget identity verification: a site that knows its logged-in customer proves who they are.

The site computes `hex(HMAC-SHA256(secret, external_id))` on its server with a secret made in
the admin (IdentitySecret) and hands the id and the hash to the widget. The helpdesk trusts the
id only when the hash matches a live secret; then every chat of that customer is linked to one
Customer record, and agents see their history. Without a valid hash no identity is trusted:
the chat is refused (`identity_invalid`), so a misconfigured site is noticed at once instead of
silently mixing customers. See docs/widget-identity.md.
"""

import hashlib
import hmac
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.addresses import address_hash
from helpdesk.errors import DomainError, InvalidInput
from helpdesk.models import Customer, IdentitySecret

EXTERNAL_ID_MAX_LENGTH = 255
SIGNATURE_HEX_LENGTH = 64
# The widget demo's make-believe shop signs in this customer with this secret (seed_demo).
DEMO_IDENTITY_SECRET = "Widget demo"  # noqa: S105  (the secret's name, not the secret)
DEMO_SHOP_CUSTOMER = {"id": "shop-customer-1001", "name": "Ana Lima", "email": "ana@example.com"}


class IdentityInvalid(DomainError):
    code = "identity_invalid"
    status = 403
    default_detail = (
        "The customer's identity could not be verified (external_id_hash does not match)."
    )


def identity_secret_create(*, name: str) -> IdentitySecret:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("A secret needs a name of 1 to 100 characters.")
    return IdentitySecret.objects.create(name=name, secret=secrets.token_hex(32))


def identity_secret_revoke(*, secret_id: int) -> None:
    IdentitySecret.objects.filter(pk=secret_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def identity_signature(*, secret: str, external_id: str) -> str:
    """What the integrator's server computes (docs/widget-identity.md shows it in Python)."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def identity_verify(*, external_id: str, signature: str) -> bool:
    """True when `signature` is the HMAC of `external_id` under any live secret (several may
    be live while a site rotates). One query; constant-time comparisons."""
    if not external_id or len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        return False
    signature = signature.strip().lower()
    if len(signature) != SIGNATURE_HEX_LENGTH:
        return False
    live = IdentitySecret.objects.filter(revoked_at__isnull=True).values_list("secret", flat=True)
    matched = False
    for secret in live:
        expected = identity_signature(secret=secret, external_id=external_id)
        # No early exit: the time taken does not tell which secret matched.
        matched |= hmac.compare_digest(expected, signature)
    return matched


@transaction.atomic
def customer_identified(
    *,
    external_id: str,
    signature: str,
    name: str,
    email: str = "",
    consent_transcript: bool = False,
    consent_marketing: bool = False,
    browser_key: str = "",
    ip: str = "",
    time_zone: str = "",
) -> Customer:
    """The one Customer record of a verified customer, created on their first chat and brought
    up to date (name, email, consents, browser) on the next ones. Raises IdentityInvalid."""
    if not identity_verify(external_id=external_id, signature=signature):
        raise IdentityInvalid()
    email = email.strip().lower()
    fields: dict[str, Any] = {
        "name": name.strip(),
        "email": email,
        # Without an address there is nothing to send a transcript or an offer to.
        "consent_transcript": bool(email) and consent_transcript,
        "consent_marketing": bool(email) and consent_marketing,
        "browser_key": browser_key,
        "ip_hash": address_hash(ip),
        "timezone": time_zone,
    }
    customer = Customer.objects.select_for_update().filter(external_id=external_id).first()
    if customer is None:
        customer = Customer(external_id=external_id, **fields)
        customer.full_clean()
        try:
            with transaction.atomic():
                customer.save()
            return customer
        except IntegrityError:
            # The same customer opened two chats at once: the other request made the record.
            customer = Customer.objects.select_for_update().get(external_id=external_id)
    # Marketing consent is withdrawn by unsubscribing, not by leaving a box unticked once.
    fields["consent_marketing"] = fields["consent_marketing"] or customer.consent_marketing
    for field, value in fields.items():
        setattr(customer, field, value)
    customer.full_clean()
    customer.save(update_fields=[*fields])
    return customer


def identity_demo_tag() -> dict[str, str] | None:
    """What the demo shop's server renders on the widget tag for its signed-in customer, as a
    real site would; None until seed_demo made the demo secret."""
    secret = (
        IdentitySecret.objects.filter(name=DEMO_IDENTITY_SECRET, revoked_at__isnull=True)
        .values_list("secret", flat=True)
        .first()
    )
    if secret is None:
        return None
    customer_id = DEMO_SHOP_CUSTOMER["id"]
    return {
        **DEMO_SHOP_CUSTOMER,
        "hash": identity_signature(secret=secret, external_id=customer_id),
    }
