"""The helpdesk core: who the customers are and what they can ask about."""

from django.db import models


class Topic(models.Model):
    """What a customer wants to talk about; chats are queued and later routed per topic."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the widget.")

    class Meta:
        ordering = ["position", "name"]

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
