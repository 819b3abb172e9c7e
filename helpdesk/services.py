"""State changes of the helpdesk core."""

from helpdesk.models import Customer


def customer_create(
    *,
    name: str,
    email: str = "",
    consent_transcript: bool = False,
    consent_marketing: bool = False,
) -> Customer:
    customer = Customer(
        name=name.strip(),
        email=email.strip().lower(),
        # Without an address there is nothing to send a transcript or an offer to.
        consent_transcript=bool(email) and consent_transcript,
        consent_marketing=bool(email) and consent_marketing,
    )
    customer.full_clean()
    customer.save()
    return customer
