"""Chats and their messages: the live chat core."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from chat.states import ChatStatus

MESSAGE_MAX_LENGTH = 4000
CLIENT_MSG_ID_MAX_LENGTH = 64
TRANSFER_NOTE_MAX_LENGTH = 1000


def _new_customer_key() -> str:
    return secrets.token_urlsafe(24)


class Chat(models.Model):
    class Status(models.TextChoices):
        QUEUED = ChatStatus.QUEUED, "Queued"
        ACTIVE = ChatStatus.ACTIVE, "Active"
        CLOSED = ChatStatus.CLOSED, "Closed"

    class ClosedBy(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"

    class CloseReason(models.TextChoices):
        # Blank: an ordinary close by whoever `closed_by` names.
        ABANDONED = "abandoned", "Abandoned (the customer left the queue)"
        # The customer chose to leave a message (a helpdesk Ticket) instead of waiting.
        LEFT_MESSAGE = "left_message", "Left a message instead of waiting"
        # An agent ended the chat and blocked an abusive customer.
        BLOCKED = "blocked", "Customer blocked"
        # Nobody wrote for HELPDESK_INACTIVITY_CLOSE_SECONDS (transcripts' sweep).
        INACTIVE = "inactive", "Closed after inactivity"
        # The customer said an automated answer solved their question and closed the chat
        # while still queued (cannedresponses' answer bot).
        RESOLVED_BY_BOT = "resolved_by_bot", "Resolved by the answer bot"

    topic = models.ForeignKey("helpdesk.Topic", on_delete=models.PROTECT, related_name="chats")
    customer = models.ForeignKey(
        "helpdesk.Customer", on_delete=models.PROTECT, related_name="chats"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chats",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Half of the customer's token: rotating it revokes every token handed out for this chat.
    customer_key = models.CharField(max_length=64, default=_new_customer_key, editable=False)
    # The highest sequence number handed out; bumped under the chat's row lock.
    last_seq = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_agent_response_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    # When the chat last entered the queue, and its rank there: a chat whose agent left goes
    # back to the front (priority 1) instead of the end.
    queued_at = models.DateTimeField(null=True, blank=True)
    queue_priority = models.PositiveSmallIntegerField(default=0)
    # Since when the customer has been waiting for an answer (None while they are answered).
    # Stored rather than derived so the console can sort by it with an index.
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=16, choices=ClosedBy.choices, blank=True)
    closed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)
    # When a customer socket of this chat was last open (connected, beating, or closing); None
    # until the customer first connects (a chat started through the API counts from created_at).
    customer_last_seen_at = models.DateTimeField(null=True, blank=True)
    # How many times the chat changed hands by a transfer or an escalation (routing).
    transfer_count = models.PositiveSmallIntegerField(default=0)
    # Since when the agent told the customer they are checking something ("hold"); cleared by
    # the agent's next message.
    on_hold_since = models.DateTimeField(null=True, blank=True)
    # The internal note of the latest transfer: staff only, shown first to whoever receives it.
    transfer_note = models.TextField(max_length=TRANSFER_NOTE_MAX_LENGTH, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)
    transferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "awaiting_reply_since"], name="chat_status_wait_idx"),
            models.Index(fields=["agent", "status"], name="chat_agent_status_idx"),
            models.Index(
                fields=["status", "-queue_priority", "queued_at"], name="chat_queue_order_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="active") | Q(agent__isnull=False),
                name="chat_active_has_agent",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="chat_closed_has_closed_at",
            ),
        ]

    def __str__(self) -> str:
        return f"Chat #{self.pk} ({self.status})"


class Message(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"
        # An automated answer (cannedresponses' answer bot): written by no person, shown
        # labelled as automated; it answers nothing for the metrics nor the waiting timer.
        BOT = "bot", "Automated answer"

    class Origin(models.TextChoices):
        # How an agent's message was written: metrics count canned replies per chat.
        TYPED = "", "Typed"
        CANNED = "canned", "Canned response"
        GREETING = "greeting", "Automatic greeting"
        HOLD = "hold", "Hold reply"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    body = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    client_msg_id = models.CharField(max_length=CLIENT_MSG_ID_MAX_LENGTH, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, blank=True, default="")
    # Tone-guard phrases the agent was warned about and sent anyway (staff only).
    tone_overrides = models.JSONField(default=list, blank=True)
    # The structured part of an automated message, sent with it on the wire (a bot answer:
    # the articles offered and the question they answer); empty for everything else.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chat", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "seq"], name="message_unique_seq"),
            # Idempotency: a resent message finds the one stored before.
            models.UniqueConstraint(
                fields=["chat", "kind", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="message_unique_client_msg_id",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in chat {self.chat_id}"


# Agent messages that were not typed: their share tells how much of the work is templated.
TEMPLATED_ORIGINS = (Message.Origin.CANNED, Message.Origin.GREETING, Message.Origin.HOLD)


class ReplyTally(models.Model):
    """Per chat and agent: replies sent, how many were templated, how many went out over a
    tone warning. Kept by `chat.services.message_post` under the chat's lock, so the metrics
    sum about one row per chat instead of scanning every message (docs/metrics.md)."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="reply_tallies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    replies = models.PositiveIntegerField(default=0)
    templated_replies = models.PositiveIntegerField(default=0)
    tone_warned_replies = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "author"], name="replytally_unique_author")
        ]

    def __str__(self) -> str:
        return f"{self.replies} replies by {self.author_id} in chat {self.chat_id}"


NOTE_MAX_LENGTH = 2000


class ChatNote(models.Model):
    """An agent's internal note on a chat: staff only, never sent to the customer."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chat", "created_at", "pk"]

    def __str__(self) -> str:
        return f"note {self.pk} on chat {self.chat_id}"


class ChatEvent(models.Model):
    """The chat's timeline (queued, assigned, closed, ...): supervisors and metrics read it."""

    class Kind(models.TextChoices):
        QUEUED = "queued", "Queued"
        ASSIGNED = "assigned", "Assigned"
        REQUEUED = "requeued", "Requeued"
        TRANSFERRED = "transferred", "Transferred"
        # Supervisors were alerted: the customer waited past the red threshold.
        FLAGGED = "flagged", "Flagged to supervisors"
        CLOSED = "closed", "Closed"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chat", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} of chat {self.chat_id}"
