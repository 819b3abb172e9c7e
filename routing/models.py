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
