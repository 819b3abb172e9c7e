"""What follows a chat: the emails sent about it (each one a delivery record), the customers'
news subscriptions, and their rating of the chat."""

from django.db import models
from django.db.models import Q


class Delivery(models.Model):
    """One email about one chat, sent at most once: unique per chat, kind and key."""

    class Kind(models.TextChoices):
        TRANSCRIPT = "transcript", "Transcript"
        OFFER = "offer", "News and offers (follow-up)"
        MISSED_REPLY = "missed_reply", "Missed reply"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    chat = models.ForeignKey("chat.Chat", on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Tells apart several deliveries of one kind for one chat (a missed reply: its message
    # seq); blank for the kinds sent once per chat.
    key = models.CharField(max_length=32, blank=True, default="")
    to_email = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["chat", "kind", "key"], name="delivery_unique_chat_kind_key"
            )
        ]
        indexes = [models.Index(fields=["status", "kind"], name="delivery_status_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind} of chat {self.chat_id} ({self.status})"


class Subscription(models.Model):
    """An address that asked to hear about news and offers (double opt-in)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    # Stored lowercased: one subscription per address.
    email = models.EmailField(unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source_chat = models.ForeignKey(
        "chat.Chat", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # The last follow-up offer sent to this address: no second one within the quiet period.
    last_offer_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"


class Rating(models.Model):
    """The customer's rating of a chat: one per chat, editable for a while."""

    chat = models.OneToOneField("chat.Chat", on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 for chat {self.chat_id}"
