"""State changes of the helpdesk core: customers and the messages (tickets) they leave."""

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from helpdesk import webhooks
from helpdesk.addresses import address_hash
from helpdesk.articles import ARTICLE_BODY_MAX_LENGTH, article_tags_normalise
from helpdesk.errors import (
    ArticleInvalid,
    BlockNamesNoOne,
    BlockReasonInvalid,
    BlockReasonRequired,
    BlockReasonTooLong,
    CustomerBlocked,
    EmailInvalid,
    Forbidden,
    InvalidInput,
    NotFound,
    TicketBodyEmpty,
    TicketBodyInvalid,
    TicketBodyTooLong,
    TicketClosed,
    TopicClosed,
)
from helpdesk.models import (
    BLOCK_IP_MAX_DURATION,
    BLOCK_REASON_MAX_LENGTH,
    TICKET_BODY_MAX_LENGTH,
    Article,
    Customer,
    CustomerBlock,
    Ticket,
    TicketReply,
    Topic,
    new_ticket_reference,
)
from helpdesk.roles import is_agent, is_supervisor
from helpdesk.selectors import active_block_for, topic_availability

logger = logging.getLogger(__name__)

# A fresh reference colliding with a stored one is a one-in-hundreds-of-millions event; a few
# tries make it practically impossible.
_REFERENCE_TRIES = 5


def customer_create(
    *,
    name: str,
    email: str = "",
    consent_transcript: bool = False,
    consent_marketing: bool = False,
    browser_key: str = "",
    ip: str = "",
) -> Customer:
    """`browser_key`: the random id the customer's browser keeps; `ip`: the address they came
    from, stored only as its keyed hash. Both let an agent block them later."""
    customer = Customer(
        name=name.strip(),
        email=email.strip().lower(),
        # Without an address there is nothing to send a transcript or an offer to.
        consent_transcript=bool(email) and consent_transcript,
        consent_marketing=bool(email) and consent_marketing,
        browser_key=browser_key,
        ip_hash=address_hash(ip),
    )
    # An anonymous customer has no external id: its uniqueness check would be a wasted query.
    customer.full_clean(exclude=["external_id"])
    customer.save()
    return customer


def customer_identify(*, customer_id: int, browser_key: str, ip: str, time_zone: str = "") -> None:
    """Record which browser and address a customer came from (and the time zone their browser
    reported), for a customer created by a service that does not take them (chat_start)."""
    Customer.objects.filter(pk=customer_id).update(
        browser_key=browser_key, ip_hash=address_hash(ip), timezone=time_zone
    )


def customer_ensure_not_blocked(
    *, email: str, browser_key: str, ip: str, detail: str | None = None
) -> None:
    """A blocked customer starts nothing: CustomerBlocked (a polite 403 that names no reason)
    if their email, their browser or, while its block lasts, their address is blocked."""
    if active_block_for(email=email, browser_key=browser_key, ip=ip) is not None:
        raise CustomerBlocked(detail)


def topic_ensure_open(*, topic: Topic, at: datetime | None = None) -> None:
    """A chat can start only within the topic's business hours; outside them the customer is
    told when it opens (and may leave a message instead)."""
    availability = topic_availability(topic=topic, at=at)
    if not availability.open_now:
        opens_at = availability.opens_at
        raise TopicClosed(opens_at=opens_at.isoformat() if opens_at else None)


# --- Tickets: messages customers leave instead of chatting ------------------------------------


def clean_ticket_body(body: str) -> str:
    """The rules of a chat message (docs/protocol.md): text, not only blanks, at most 4000."""
    if "\x00" in body:
        raise TicketBodyInvalid()
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (JSON "\ud800") is not text; the database would refuse it later.
        raise TicketBodyInvalid("A message must be valid Unicode text.") from None
    if not body.strip():
        raise TicketBodyEmpty()
    if len(body) > TICKET_BODY_MAX_LENGTH:
        raise TicketBodyTooLong()
    return body


def clean_ticket_email(email: str) -> str:
    """Answers go by email: the address must be one (254 characters at most, RFC 5321)."""
    email = email.strip().lower()
    if not email or len(email) > 254:
        raise EmailInvalid()
    try:
        validate_email(email)
    except ValidationError:
        raise EmailInvalid() from None
    return email


@transaction.atomic
def ticket_create(
    *,
    topic: Topic,
    body: str,
    email: str,
    name: str = "",
    customer: Customer | None = None,
    chat_id: int | None = None,
    browser_key: str = "",
    ip: str = "",
) -> Ticket:
    """A customer leaves a message. Either a new customer (`name`, with the `browser_key` and
    `ip` they came with: refused with CustomerBlocked if blocked) or the one of the chat they
    left it from (`customer`, `chat_id`). They are emailed its reference after commit."""
    body = clean_ticket_body(body)
    email = clean_ticket_email(email)
    if customer is None:
        customer_ensure_not_blocked(
            email=email,
            browser_key=browser_key,
            ip=ip,
            detail="We're sorry, we can't take a message from you right now. "
            "If you think this is a mistake, please contact us another way.",
        )
        customer = customer_create(name=name, email=email, browser_key=browser_key, ip=ip)
    for attempt in range(_REFERENCE_TRIES):
        try:
            # A savepoint: a clashing reference must not spoil the caller's transaction.
            with transaction.atomic():
                ticket = Ticket.objects.create(
                    reference=new_ticket_reference(),
                    topic=topic,
                    customer=customer,
                    email=email,
                    chat_id=chat_id,
                    body=body,
                )
            break
        except IntegrityError:
            if chat_id is not None and Ticket.objects.filter(chat_id=chat_id).exists():
                raise  # one ticket per chat: not a reference clash
            if attempt == _REFERENCE_TRIES - 1:
                raise
    from helpdesk import tasks  # tasks import this module

    transaction.on_commit(partial(tasks.send_ticket_confirmation.delay, ticket_id=ticket.pk))
    # In this transaction: no ticket, no delivery (the helpdesk owns both, no signal needed).
    webhooks.emit(event="ticket.created", data=partial(webhooks.ticket_data, ticket))
    return ticket


def _lock_ticket(ticket_id: int) -> Ticket:
    try:
        return (
            Ticket.objects.select_for_update(of=("self",)).select_related("topic").get(pk=ticket_id)
        )
    except Ticket.DoesNotExist:
        raise NotFound("No such ticket.") from None


@transaction.atomic
def ticket_reply(*, ticket_id: int, author: Any, body: str) -> TicketReply:
    """An agent answers a ticket; the answer is emailed to the customer after commit."""
    if not is_agent(author):
        raise Forbidden("Only agents can answer tickets.")
    body = clean_ticket_body(body)
    ticket = _lock_ticket(ticket_id)
    if ticket.status == Ticket.Status.CLOSED:
        raise TicketClosed()
    reply = TicketReply.objects.create(ticket=ticket, author=author, body=body)
    ticket.status = Ticket.Status.ANSWERED
    ticket.answered_at = timezone.now()
    ticket.save(update_fields=["status", "answered_at"])
    from helpdesk import tasks  # tasks import this module

    transaction.on_commit(partial(tasks.send_ticket_reply.delay, reply_id=reply.pk))
    return reply


@transaction.atomic
def ticket_close(*, ticket_id: int, by: Any) -> Ticket:
    """An agent closes a ticket (answered, or nothing to answer). Closing twice is an error."""
    if not is_agent(by):
        raise Forbidden("Only agents can close tickets.")
    ticket = _lock_ticket(ticket_id)
    if ticket.status == Ticket.Status.CLOSED:
        raise TicketClosed("This ticket is already closed.")
    ticket.status = Ticket.Status.CLOSED
    ticket.closed_at = timezone.now()
    ticket.save(update_fields=["status", "closed_at"])
    return ticket


def _message_id(kind: str, pk: int) -> str:
    # Deterministic per delivery: a mail client drops the rare duplicate of a retried send.
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<helpdesk-{kind}-{pk}@{domain}>"


def _send(
    *, subject: str, template: str, context: dict[str, Any], to: str, message_id: str
) -> None:
    context = {"brand_name": settings.HELPDESK_BRAND_NAME, **context}
    EmailMessage(
        subject=subject,
        body=render_to_string(template, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id},
    ).send()


@transaction.atomic
def ticket_confirmation_send(*, ticket_id: int) -> bool:
    """Email the customer the reference of the message they left, once. False if already sent
    (a retried task) or the ticket is gone."""
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None or ticket.confirmation_sent_at is not None:
        return False
    _send(
        subject=f"We received your message [{ticket.reference}]",
        template="helpdesk/email/ticket_created.txt",
        context={"ticket": ticket, "customer": ticket.customer},
        to=ticket.email,
        message_id=_message_id("ticket", ticket.pk),
    )
    ticket.confirmation_sent_at = timezone.now()
    ticket.save(update_fields=["confirmation_sent_at"])
    return True


@transaction.atomic
def ticket_reply_send(*, reply_id: int) -> bool:
    """Email an agent's answer to the customer, once. False if already sent or gone."""
    reply = (
        TicketReply.objects.select_for_update(of=("self",))
        .select_related("ticket", "ticket__customer", "author")
        .filter(pk=reply_id)
        .first()
    )
    if reply is None or reply.sent_at is not None:
        return False
    ticket = reply.ticket
    _send(
        subject=f"Re: your message [{ticket.reference}]",
        template="helpdesk/email/ticket_reply.txt",
        context={
            "ticket": ticket,
            "reply": reply,
            "customer": ticket.customer,
            # Customers see an agent's first name only, as in the chat.
            "agent_name": reply.author.first_name or reply.author.get_username(),
        },
        to=ticket.email,
        message_id=_message_id("reply", reply.pk),
    )
    reply.sent_at = timezone.now()
    reply.save(update_fields=["sent_at"])
    return True


# --- Knowledge base ---------------------------------------------------------------------------


@transaction.atomic
def article_create(
    *,
    title: str,
    slug: str,
    body: str,
    topic: Topic | None = None,
    tags: str = "",
    is_published: bool = True,
) -> Article:
    """A new knowledge base article, checked against every rule of the model first.

    The admin's form checks the same rules for supervisors; this is the path for code (the
    demo seed, imports). Raises ArticleInvalid with the fields at fault.
    """
    article = Article(
        title=title.strip(),
        slug=slug.strip(),
        body=body,
        topic=topic,
        tags=article_tags_normalise(tags),
        is_published=is_published,
    )
    errors: dict[str, list[str]] = {}
    # A TextField's max_length binds only forms; the model's own check would let it pass.
    if len(body) > ARTICLE_BODY_MAX_LENGTH:
        errors["body"] = [f"An article can be at most {ARTICLE_BODY_MAX_LENGTH} characters long."]
    try:
        article.full_clean()
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ArticleInvalid(errors)
    article.save()
    return article


# --- Blocked customers --------------------------------------------------------------------------


def clean_block_reason(reason: str) -> str:
    """Why a customer is blocked: required, plain text, at most 500 characters (surrounding
    blanks dropped). Supervisors read it in the admin; it is never shown to the customer."""
    if "\x00" in reason:
        raise BlockReasonInvalid()
    try:
        reason.encode("utf-8")
    except UnicodeEncodeError:
        raise BlockReasonInvalid("A reason must be valid Unicode text.") from None
    reason = reason.strip()
    if not reason:
        raise BlockReasonRequired()
    if len(reason) > BLOCK_REASON_MAX_LENGTH:
        raise BlockReasonTooLong()
    return reason


@transaction.atomic
def block_create(
    *,
    email: str,
    browser_key: str,
    ip_hash: str,
    block_ip_for: timedelta | None,
    reason: str,
    chat_id: int | None,
    by: Any,
) -> CustomerBlock:
    """An agent blocks a customer: their email and browser until a supervisor lifts the block,
    and their address (its hash, from Customer.ip_hash) only if `block_ip_for` is given, for
    at most 7 days. The address hash is kept only when the address is blocked."""
    if not is_agent(by):
        raise Forbidden("Only agents can block customers.")
    reason = clean_block_reason(reason)
    if block_ip_for is not None and not timedelta(0) < block_ip_for <= BLOCK_IP_MAX_DURATION:
        raise InvalidInput("An address can be blocked for at most 7 days.")
    email = email.strip().lower()
    ip_hash = ip_hash if block_ip_for is not None else ""
    if not (email or browser_key or ip_hash):
        # The table's check constraint would refuse it; say so in words an agent can act on.
        raise BlockNamesNoOne()
    return CustomerBlock.objects.create(
        email=email,
        browser_key=browser_key,
        ip_hash=ip_hash,
        ip_blocked_until=timezone.now() + block_ip_for if ip_hash and block_ip_for else None,
        reason=reason,
        chat_id=chat_id,
        created_by=by,
    )


@transaction.atomic
def block_lift(*, block_id: int, by: Any) -> CustomerBlock:
    """A supervisor lifts a block: the customer may start chats again. Lifting a lifted block
    changes nothing (the first lift stays on record), so a double submit is harmless."""
    if not is_supervisor(by):
        raise Forbidden("Only supervisors can lift blocks.")
    block = CustomerBlock.objects.select_for_update().filter(pk=block_id).first()
    if block is None:
        raise NotFound("No such block.")
    if block.lifted_at is None:
        block.lifted_at = timezone.now()
        block.lifted_by = by
        block.save(update_fields=["lifted_at", "lifted_by"])
    return block
