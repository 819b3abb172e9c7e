"""Agents as the router sees them (skills, capacity, chosen status, open consoles), transfers,
and the rules and counters of proactive chat invitations."""

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from helpdesk.models import MIDNIGHT, default_timezone, validate_timezone
from routing.invitations import PatternError, parse_patterns


class AgentProfile(models.Model):
    """What routing knows of one agent; created the first time presence or routing needs it."""

    class Seniority(models.TextChoices):
        AGENT = "agent", "Agent"
        SENIOR = "senior", "Senior"

    class Status(models.TextChoices):
        # What the agent chose. Being reachable also needs a live console (ConsoleConnection).
        ONLINE = "online", "Online"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    topics = models.ManyToManyField(
        "helpdesk.Topic",
        blank=True,
        related_name="agent_profiles",
        verbose_name="skills",
        help_text="Topics this agent is given chats of.",
    )
    seniority = models.CharField(max_length=16, choices=Seniority.choices, default=Seniority.AGENT)
    max_chats = models.PositiveSmallIntegerField(
        default=3, help_text="Most chats this agent holds at once."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFLINE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Tie-break between agents with as many open chats: the one idle longest (never first).
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # When the agent last closed a console tab: the grace period of presence counts from it.
    last_disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(max_chats__gte=1), name="agentprofile_max_chats_gte_1"
            )
        ]
        indexes = [models.Index(fields=["status"], name="agentprofile_status_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.status})"


class ConsoleConnection(models.Model):
    """One open console socket (one browser tab) of an agent, in any daphne process.

    The database is shared by every process, so presence works across them. A row is live
    while `last_seen_at` is younger than HELPDESK_PRESENCE_TTL_SECONDS: a killed process never
    deletes its rows, they simply expire.
    """

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_connections"
    )
    channel_name = models.CharField(max_length=255, unique=True)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["agent", "last_seen_at"], name="consoleconn_agent_seen_idx")
        ]

    def __str__(self) -> str:
        return f"console of {self.agent_id} ({self.channel_name})"


# Longest decline reason an agent may give (shown to the sender as plain text).
TRANSFER_REASON_MAX_LENGTH = 200


class Transfer(models.Model):
    """One hand-over of a chat: to a colleague or a senior (a request they accept or decline in
    time) or to a topic's queue (completed at once). docs/routing.md, "Transfers"."""

    class Kind(models.TextChoices):
        AGENT = "agent", "To a colleague"
        SENIOR = "senior", "Escalation to a senior"
        TOPIC = "topic", "To a topic's queue"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the receiver"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Not answered in time"
        CANCELLED = "cancelled", "Cancelled"
        # A transfer to a topic's queue: done when asked.
        COMPLETED = "completed", "Completed"

    chat = models.ForeignKey("chat.Chat", on_delete=models.CASCADE, related_name="transfers")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The agent whose chat it is (the chat is handed over from them)...
    from_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # ...and who asked: the same agent, or a supervisor moving a colleague's chat.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    to_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="transfers_received",
    )
    to_topic = models.ForeignKey(
        "helpdesk.Topic", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Internal: staff only, never sent to the customer's group.
    note = models.TextField(max_length=1000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Why it was declined, cancelled or expired (plain text, shown to the sender).
    reason = models.CharField(max_length=TRANSFER_REASON_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open request per chat: two colleagues can never both accept the same chat.
            models.UniqueConstraint(
                fields=["chat"],
                condition=Q(status="pending"),
                name="transfer_one_pending_per_chat",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="topic", to_topic__isnull=False, to_agent__isnull=True)
                    | Q(kind__in=["agent", "senior"], to_agent__isnull=False)
                ),
                name="transfer_target_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(expires_at__isnull=False),
                name="transfer_pending_expires",
            ),
        ]
        indexes = [
            # The expiry sweep and the console's list of open requests.
            models.Index(fields=["status", "expires_at"], name="transfer_status_expires_idx"),
            models.Index(fields=["to_agent", "status"], name="transfer_to_agent_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} transfer of chat {self.chat_id} ({self.status})"


# --- Proactive chat invitations (docs/invitations.md) ---------------------------------------------

# The longest invitation text: a bubble beside the launcher, read at a glance.
INVITATION_TEXT_MAX_LENGTH = 200
# The widget asks at most this long into a page view; a longer wait would never be reached.
INVITATION_MAX_SECONDS_ON_PAGE = 3600
INVITATION_MAX_PAGES_IN_VISIT = 100
# One invitation per visitor per this many hours at most (30 days).
INVITATION_MAX_CAP_HOURS = 720


def validate_url_patterns(value: str) -> None:
    try:
        parse_patterns(value)
    except PatternError as error:
        raise ValidationError(str(error), code="invalid_pattern") from None


def validate_active_days(value: str) -> None:
    if not value or any(day not in "0123456" for day in value) or len(set(value)) != len(value):
        raise ValidationError("Choose at least one day.", code="invalid_days")


def validate_plain_text(value: str) -> None:
    # Shown with textContent and escaped in the admin, so markup is harmless; control
    # characters would still show as garbage (or cut the text) in some browsers.
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValidationError(
            "Use plain text without control characters.", code="invalid_characters"
        )


class InvitationRule(models.Model):
    """When the widget invites a visitor to chat, about which topic, with which words."""

    class Visitors(models.TextChoices):
        ANY = "any", "Every visitor"
        NEW = "new", "New visitors only"
        RETURNING = "returning", "Returning visitors only"

    name = models.CharField(max_length=100, help_text="For supervisors; visitors never see it.")
    is_active = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(
        default=0,
        help_text="When several rules fit a page at once, the highest priority invites "
        "(equal priorities: the older rule).",
    )
    url_patterns = models.TextField(
        validators=[validate_url_patterns],
        help_text="One path a line; * stands for anything (/shop/* is every shop page), a "
        "leading ! excludes (!/checkout/*). The query string is never matched. /* is every page.",
    )
    min_seconds_on_page = models.PositiveIntegerField(
        default=30,
        validators=[MaxValueValidator(INVITATION_MAX_SECONDS_ON_PAGE)],
        help_text="Seconds the visitor has spent on the page.",
    )
    min_pages_in_visit = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(INVITATION_MAX_PAGES_IN_VISIT)],
        help_text="Pages seen in this visit, this one included (1: from the first page).",
    )
    visitors = models.CharField(max_length=16, choices=Visitors.choices, default=Visitors.ANY)
    topic = models.ForeignKey(
        "helpdesk.Topic",
        on_delete=models.PROTECT,
        related_name="invitation_rules",
        help_text="The topic the chat opens on when the visitor accepts.",
    )
    text = models.CharField(
        max_length=INVITATION_TEXT_MAX_LENGTH,
        validators=[validate_plain_text],
        help_text="Plain text shown in the invitation, e.g. “Questions about sizes? We're here "
        "to help.”",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Active hours: the rule's own weekly window in its own zone (the topic's business hours
    # apply as well: a closed topic never invites).
    active_days = models.CharField(
        max_length=7,
        default="0123456",
        validators=[validate_active_days],
        help_text="Weekdays the rule invites on, Monday 0 to Sunday 6.",
    )
    active_from = models.TimeField(
        null=True, blank=True, help_text="Empty: from the start of the day."
    )
    active_until = models.TimeField(
        null=True, blank=True, help_text="Empty or 00:00: until midnight."
    )
    timezone = models.CharField(
        max_length=64,
        default=default_timezone,
        validators=[validate_timezone],
        help_text="IANA time zone of the active hours, e.g. Europe/London.",
    )
    cap_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(INVITATION_MAX_CAP_HOURS)],
        help_text="A visitor shown an invitation (by any rule) is not invited by this rule "
        "again for this many hours.",
    )

    class Meta:
        ordering = ["-priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cap_hours__gte=1), name="invitationrule_cap_hours_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(min_pages_in_visit__gte=1), name="invitationrule_min_pages_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(active_from__isnull=True)
                | Q(active_until__isnull=True)
                | Q(active_until=MIDNIGHT)
                | Q(active_from__lt=F("active_until")),
                name="invitationrule_active_from_before_until",
                violation_error_message="The start of the active hours must be before their end.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        ends = self.active_until
        if (
            self.active_from is not None
            and ends is not None
            and ends != MIDNIGHT
            and self.active_from >= ends
        ):
            raise ValidationError(
                {
                    "active_until": "The end must be after the start (00:00 is midnight). For "
                    "hours across midnight, make two rules."
                }
            )


class InvitationTally(models.Model):
    """How often one rule's invitation was shown, accepted and dismissed on one day (the site's
    TIME_ZONE). Counters only: nothing about the visitors is kept."""

    rule = models.ForeignKey(InvitationRule, on_delete=models.CASCADE, related_name="tallies")
    day = models.DateField()
    shown = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    dismissed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "day"], name="invitationtally_rule_day")
        ]
        indexes = [models.Index(fields=["day"], name="invitationtally_day_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.day}: {self.shown}/{self.accepted}/{self.dismissed}"
