"""The helpdesk core: who the customers are and what they can ask about."""

from django.db import models
from django.db.models import F, Q


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["email"], name="customer_email_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name
