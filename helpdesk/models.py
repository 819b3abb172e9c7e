"""The helpdesk core: who the customers are, what they can ask about, when we answer, and
the messages (tickets) they leave us."""

import secrets
import zoneinfo
from datetime import time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

# The longest message a customer may leave (the same rule as a chat message).
TICKET_BODY_MAX_LENGTH = 4000
# Ticket references: "HD-" and six characters a customer can read out on the phone without
# confusing them (no 0/O, 1/I/L, U/V).
TICKET_REFERENCE_PREFIX = "HD-"
TICKET_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
TICKET_REFERENCE_LENGTH = 6
# A closing time of 00:00 means midnight at the end of the day.
MIDNIGHT = time(0, 0)


def default_timezone() -> str:
    """A topic's business hours are read in the site's time zone unless told otherwise."""
    return settings.TIME_ZONE


def validate_timezone(value: str) -> None:
    """An IANA time zone name known to this machine (e.g. "Europe/London")."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError(
            "%(value)s is not a known time zone (use an IANA name like Europe/London).",
            code="invalid_timezone",
            params={"value": value},
        ) from None


def new_ticket_reference() -> str:
    suffix = "".join(
        secrets.choice(TICKET_REFERENCE_ALPHABET) for _ in range(TICKET_REFERENCE_LENGTH)
    )
    return TICKET_REFERENCE_PREFIX + suffix


class Topic(models.Model):
    """What a customer wants to talk about; chats are queued and later routed per topic."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the widget.")
    # How long a customer may wait for an answer before the console colours the chat amber,
    # then red (docs/routing.md); supervisors set them per topic.
    amber_after_seconds = models.PositiveIntegerField(
        default=60, help_text="Seconds a customer waits for an answer before the chat turns amber."
    )
    red_after_seconds = models.PositiveIntegerField(
        default=180,
        help_text="Seconds a customer waits for an answer before the chat turns red "
        "(more than the amber threshold).",
    )
    # No-reply timeout (docs/routing.md): an active chat whose customer has waited this long
    # for its agent's answer is offered to another agent. 0: off.
    reply_timeout_seconds = models.PositiveIntegerField(
        default=0,
        help_text="Seconds an agent may leave a customer unanswered before the chat is offered "
        "to another agent (0: never).",
    )
    # Business hours (BusinessHours rows) are read in this zone; no rows: always open.
    timezone = models.CharField(
        max_length=64,
        default=default_timezone,
        validators=[validate_timezone],
        help_text="IANA time zone of the business hours, e.g. Europe/London.",
    )
    # Past this estimated wait a queued customer is offered to leave a message (docs/routing.md).
    offer_message_after_seconds = models.PositiveIntegerField(
        default=0,
        help_text="Estimated wait in seconds above which a waiting customer is offered to leave "
        "a message instead (0: not for the wait; still offered when no agent is available or "
        "the topic is closed).",
    )

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amber_after_seconds__gt=0)
                & Q(red_after_seconds__gt=F("amber_after_seconds")),
                name="topic_thresholds_red_after_amber",
                violation_error_message=(
                    "The red threshold must be above the amber threshold, "
                    "and the amber threshold above zero."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """Someone who talked to us through the widget (or was handed to us by an integrator)."""

    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    consent_transcript = models.BooleanField(
        default=False, help_text="Agreed to receive the chat transcript by email."
    )
    consent_marketing = models.BooleanField(
        default=False, help_text="Agreed to hear about news and offers."
    )
    # A random id the customer's browser keeps (the widget's local storage): blocks can name a
    # browser, not only an email.
    browser_key = models.CharField(max_length=64, blank=True, db_index=True)
    # The keyed hash of the address the customer came from (helpdesk.addresses), so an agent
    # can block that address for a while; the address itself is never stored.
    ip_hash = models.CharField(max_length=64, blank=True)
    # The customer's IANA time zone as their browser reported it: emails show their times.
    timezone = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["email"], name="customer_email_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


class BusinessHours(models.Model):
    """One opening interval of a topic on one weekday, in the topic's time zone.

    Several intervals a day are allowed (e.g. 09:00-12:00 and 13:00-17:00); a topic without
    any is always open. `closes` 00:00 means midnight, the end of the day.
    """

    class Weekday(models.IntegerChoices):
        # Python's datetime.weekday() numbering.
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="business_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight (the end of the day).")

    class Meta:
        ordering = ["topic", "weekday", "opens"]
        verbose_name = "business hours"
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__lt=F("closes")) | Q(closes=MIDNIGHT),
                name="business_hours_opens_before_closes",
                violation_error_message="The opening time must be before the closing time.",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="business_hours_weekday"
            ),
        ]

    def __str__(self) -> str:
        closes = "24:00" if self.closes == MIDNIGHT else f"{self.closes:%H:%M}"
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{closes}"


class Ticket(models.Model):
    """A message a customer left instead of chatting; an agent answers it by email."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    reference = models.CharField(
        max_length=16, unique=True, default=new_ticket_reference, editable=False
    )
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="tickets")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    # Where answers go: the address given with the message (the customer's may be blank).
    email = models.EmailField()
    # The chat the customer was waiting in, if they left the message from the queue. A string
    # reference: the helpdesk core never imports chat (docs/architecture.md).
    chat = models.ForeignKey(
        "chat.Chat",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    body = models.TextField(max_length=TICKET_BODY_MAX_LENGTH)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    # When an agent last answered, and when the ticket was closed.
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the customer's confirmation (with the reference) was emailed: sent at most once.
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="ticket_status_created_idx"),
            models.Index(fields=["email"], name="ticket_email_idx"),
        ]
        constraints = [
            # One message per chat: a double submit cannot leave two tickets.
            models.UniqueConstraint(
                fields=["chat"], condition=Q(chat__isnull=False), name="ticket_unique_chat"
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class TicketReply(models.Model):
    """An agent's answer to a ticket, emailed to the customer."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ticket_replies"
    )
    body = models.TextField(max_length=TICKET_BODY_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the email went out: a retried delivery task sends it at most once.
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "created_at", "pk"]
        verbose_name_plural = "ticket replies"

    def __str__(self) -> str:
        return f"Reply to {self.ticket_id}"


# A block's reason: required, plain text, at most this long.
BLOCK_REASON_MAX_LENGTH = 500
# The longest an address stays blocked (addresses change hands: a household, a café, a mobile
# carrier's pool).
BLOCK_IP_MAX_DURATION = timedelta(days=7)


class CustomerBlock(models.Model):
    """An abusive customer kept out: by email, by browser, and optionally by network address
    for a while. Supervisors review and lift blocks in the admin."""

    email = models.EmailField(blank=True, db_index=True)
    browser_key = models.CharField(max_length=64, blank=True, db_index=True)
    # Hashed (HMAC of the address with the secret key): addresses are personal data.
    ip_hash = models.CharField(max_length=64, blank=True, db_index=True)
    ip_blocked_until = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(max_length=BLOCK_REASON_MAX_LENGTH)
    chat = models.ForeignKey(
        "chat.Chat", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="", browser_key="", ip_hash=""),
                name="customerblock_names_someone",
            )
        ]

    def __str__(self) -> str:
        return f"block {self.pk} ({self.email or self.browser_key[:8] or 'address'})"


class Article(models.Model):
    """A knowledge base article: markdown written by supervisors, rendered and sanitised."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField(max_length=50000, help_text="Markdown.")
    topic = models.ForeignKey(
        Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles"
    )
    tags = models.CharField(
        max_length=200, blank=True, help_text="Comma-separated words that help searching."
    )
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
