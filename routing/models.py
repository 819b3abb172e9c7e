"""Agents as the router sees them: skills, capacity, chosen status, and open consoles."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


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
