"""Build the email of one delivery (subject, both parts, headers). No sending, no writes."""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from helpdesk.mail import header_text, mailbox
from helpdesk.models import Customer
from transcripts import feedback, missed, offers, selectors
from transcripts.models import Delivery


def _render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    text = render_to_string(f"transcripts/email/{template}.txt", context)
    html = render_to_string(f"transcripts/email/{template}.html", context)
    return text, html


def transcript_parts(transcript: selectors.Transcript, *, rating_url: str = "") -> tuple[str, str]:
    """The transcript's plain-text and HTML bodies, as the customer's email carries them; the
    staff downloads serve these too (without the customer's rating link)."""
    context = {
        "brand_name": settings.HELPDESK_BRAND_NAME,
        "transcript": transcript,
        "customer": transcript.chat.customer,
        "rating_url": rating_url,
    }
    return _render("transcript", context)


def _email(
    delivery: Delivery,
    *,
    customer: Customer,
    subject: str,
    parts: tuple[str, str],
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """One delivery's message: both parts, to the customer by name, with the Message-ID chosen
    when the delivery was created (every retry sends the same one)."""
    text, html = parts
    message = EmailMultiAlternatives(
        # The brand and names are settings or typed by people: a header stays one line.
        subject=header_text(subject),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mailbox(name=customer.name, email=delivery.to_email)],
        headers={"Message-ID": delivery.message_id, **(headers or {})},
    )
    message.attach_alternative(html, "text/html")
    return message


def transcript_email(delivery: Delivery) -> EmailMultiAlternatives:
    transcript = selectors.transcript_for_customer(chat_id=delivery.chat_id)
    customer = transcript.chat.customer
    brand = settings.HELPDESK_BRAND_NAME
    # The same signed form the widget shows after the chat (transcripts.feedback).
    rating_url = feedback.feedback_url(transcript.chat, base_url=settings.HELPDESK_PUBLIC_URL)
    return _email(
        delivery,
        customer=customer,
        subject=f"Your chat with {brand}",
        parts=transcript_parts(transcript, rating_url=rating_url),
    )


def offer_email(delivery: Delivery) -> EmailMultiAlternatives:
    """The follow-up offer: a confirm link (double opt-in) and an unsubscribe link, the latter
    also as List-Unsubscribe headers for one-click unsubscribing in mail clients (RFC 8058)."""
    customer = delivery.chat.customer
    brand = settings.HELPDESK_BRAND_NAME
    unsubscribe_url = offers.unsubscribe_url(email=delivery.to_email)
    context = {
        "brand_name": brand,
        "customer": customer,
        "confirm_url": offers.confirm_url(email=delivery.to_email, chat_id=delivery.chat_id),
        "unsubscribe_url": unsubscribe_url,
    }
    return _email(
        delivery,
        customer=customer,
        subject=f"News and offers from {brand}",
        parts=_render("offer", context),
        headers={
            # The URL holds only our host and a URL-safe token: nothing a customer typed.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def missed_reply_email(delivery: Delivery) -> EmailMultiAlternatives:
    """The agent's replies the customer missed, with a link back into the chat. The delivery's
    key is the seq of the latest of them."""
    reply = missed.missed_reply_for_customer(chat_id=delivery.chat_id, seq=int(delivery.key))
    customer = reply.chat.customer
    brand = settings.HELPDESK_BRAND_NAME
    context = {"brand_name": brand, "customer": customer, "reply": reply}
    return _email(
        delivery,
        customer=customer,
        subject=f"{reply.agent_name or brand} replied to your chat with {brand}",
        parts=_render("missed_reply", context),
    )


BUILDERS = {
    Delivery.Kind.TRANSCRIPT: transcript_email,
    Delivery.Kind.OFFER: offer_email,
    Delivery.Kind.MISSED_REPLY: missed_reply_email,
}
