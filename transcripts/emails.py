"""Build the email of one delivery (subject, both parts, headers). No sending, no writes."""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from helpdesk.mail import header_text, mailbox
from transcripts import selectors
from transcripts.models import Delivery


def _render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    text = render_to_string(f"transcripts/email/{template}.txt", context)
    html = render_to_string(f"transcripts/email/{template}.html", context)
    return text, html


def transcript_parts(transcript: selectors.Transcript) -> tuple[str, str]:
    """The transcript's plain-text and HTML bodies, exactly as the customer's email carries
    them; the staff downloads serve these too, so staff see what the customer got."""
    context = {
        "brand_name": settings.HELPDESK_BRAND_NAME,
        "transcript": transcript,
        "customer": transcript.chat.customer,
    }
    return _render("transcript", context)


def transcript_email(delivery: Delivery) -> EmailMultiAlternatives:
    transcript = selectors.transcript_for_customer(chat_id=delivery.chat_id)
    customer = transcript.chat.customer
    brand = settings.HELPDESK_BRAND_NAME
    text, html = transcript_parts(transcript)
    message = EmailMultiAlternatives(
        # The brand comes from settings, but a header must stay one line whatever it holds.
        subject=header_text(f"Your chat with {brand}"),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mailbox(name=customer.name, email=delivery.to_email)],
        headers={"Message-ID": delivery.message_id},
    )
    message.attach_alternative(html, "text/html")
    return message


BUILDERS = {Delivery.Kind.TRANSCRIPT: transcript_email}
