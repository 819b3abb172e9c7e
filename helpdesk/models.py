"""The helpdesk core: who the customers are, what they can ask about, when we answer, and
the messages (tickets) they leave us."""

import secrets
import uuid
import zoneinfo
from datetime import time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

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
    # The customer's id on the integrator's own site, trusted only when the widget proved it
    # with an HMAC made with an IdentitySecret: it links every chat of theirs to one record.
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["email"], name="customer_email_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customer_external_id_unique",
            )
        ]

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


API_TOKEN_PREFIX = "hd_"  # noqa: S105  (a label, not a secret)


class ApiToken(models.Model):
    """An integrator's key to the REST API. It acts as its user (an agent or a supervisor,
    often a dedicated "CRM integration" account) and its scope narrows that further: a read
    token never writes. Only a hash of the secret is kept; the token itself is shown once."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    name = models.CharField(max_length=100, help_text="What uses it, e.g. “CRM sync”.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The token acts as this agent or supervisor, with their access.",
    )
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    # Public part of the token: finds the row without scanning, and names it in lists.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    requests_per_minute = models.PositiveIntegerField(
        default=600, help_text="Requests beyond this rate get HTTP 429."
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({API_TOKEN_PREFIX}{self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE


class IdentitySecret(models.Model):
    """The secret a site signs its logged-in customer's id with (widget identity verification).
    Several may be live at once so a site can rotate without a gap; a revoked one proves
    nothing. Kept in clear: checking an HMAC needs the key itself."""

    name = models.CharField(max_length=100, help_text="Which site or environment uses it.")
    secret = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


# --- Webhooks (docs/webhooks.md) ---------------------------------------------------------------

# The events a subscription may ask for, with what they mean (the admin's checkboxes).
WEBHOOK_EVENTS = (
    ("chat.created", "A customer started a chat"),
    ("chat.assigned", "A chat was given to an agent"),
    ("message.created", "A message was posted in a chat"),
    ("chat.transferred", "A chat was transferred to a colleague, a senior or a topic"),
    ("chat.closed", "A chat ended"),
    ("rating.received", "A customer rated a chat"),
    ("ticket.created", "A customer left a message (a ticket)"),
)
WEBHOOK_EVENT_NAMES = frozenset(name for name, _ in WEBHOOK_EVENTS)
# Sent only by the admin's "send a test ping" action, whatever a subscription's events.
WEBHOOK_PING_EVENT = "ping"
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105  (a label, not a secret)


def new_webhook_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_hex(32)


def validate_webhook_events(value: object) -> None:
    """A non-empty list of known event names, each once."""
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one event.", code="events_required")
    unknown = [
        item for item in value if not isinstance(item, str) or item not in WEBHOOK_EVENT_NAMES
    ]
    if unknown:
        raise ValidationError(
            "Unknown event: %(event)s.",
            code="event_unknown",
            params={"event": str(unknown[0])[:50]},
        )
    if len(set(value)) != len(value):
        raise ValidationError("An event is listed twice.", code="event_repeated")


def _validate_webhook_url(value: str) -> None:
    # Imported here: the HTTP module reads settings and sockets, the models need only its rules.
    from helpdesk.webhook_http import validate_webhook_url

    validate_webhook_url(value)


class WebhookSubscription(models.Model):
    """An integrator's endpoint and the events it wants, signed with its own secret. One that
    keeps failing is disabled (`disabled_at`, with the reason) until a supervisor re-enables it."""

    name = models.CharField(max_length=100, help_text="What receives the events, e.g. “CRM”.")
    url = models.CharField(
        "URL",
        max_length=500,
        validators=[_validate_webhook_url],
        help_text="An http:// or https:// address that accepts POST requests.",
    )
    events = models.JSONField(default=list, validators=[validate_webhook_events])
    secret = models.CharField(max_length=80, default=new_webhook_secret, editable=False)
    is_active = models.BooleanField(
        default=True, help_text="Inactive subscriptions receive nothing."
    )
    # Deliveries that failed one after the other (every attempt); a success resets it.
    failure_streak = models.PositiveIntegerField(default=0, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "webhook subscription"

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one subscription: its payload, kept as sent, and how sending it went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    # The receiver's idempotency key: the `id` of the body and the X-Helpdesk-Delivery header.
    delivery_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    # The event's `data` (the body adds id, event and created_at around it).
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A pending delivery is (re)tried from this time on; the sweep picks up overdue ones.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The newest lines of the attempts' history (errors, redeliveries).
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_sub_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"
