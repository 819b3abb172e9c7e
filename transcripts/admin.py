"""Supervisors' admin of the emails: every delivery (resend from here) and the news
subscriptions. Read-only screens; every change goes through a service. (Ratings: see
feedback_admin.py.)"""

from collections import Counter

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from chat.admin import ChatAdmin
from chat.models import Chat
from helpdesk.admin_roles import SupervisorsReadOnlyAdmin
from helpdesk.admin_tools import action_summary
from helpdesk.errors import DomainError
from transcripts import offers, services
from transcripts.errors import DeliveryNotResendable
from transcripts.models import Delivery, Subscription


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@admin.register(Delivery)
class DeliveryAdmin(SupervisorsReadOnlyAdmin):
    list_display = [
        "id",
        "chat_link",
        "kind",
        "key",
        "to_email",
        "status",
        "attempts",
        "last_error_short",
        "created_at",
        "sent_at",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["to_email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "chat",
        "kind",
        "key",
        "to_email",
        "status",
        "attempts",
        "last_error",
        "message_id",
        "created_at",
        "updated_at",
        "sent_at",
    ]
    actions = ["resend_selected"]

    @admin.display(description="chat", ordering="chat_id")
    def chat_link(self, delivery: Delivery) -> str:
        # The id is enough to link: no join per row.
        url = reverse("admin:chat_chat_change", args=[delivery.chat_id])
        return format_html('<a href="{}">Chat {}</a>', url, delivery.chat_id)

    @admin.display(description="last error")
    def last_error_short(self, delivery: Delivery) -> str:
        # The newest line of the history, clipped; the admin escapes it (SMTP servers' text).
        lines = delivery.last_error.strip().splitlines()
        last = lines[-1] if lines else ""
        return last if len(last) <= 80 else last[:79] + "…"

    @admin.action(description="Resend selected", permissions=["supervise"])
    def resend_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        # One service call per delivery: each its own transaction, row lock and queued task.
        resent = 0
        for delivery_id in queryset.values_list("pk", flat=True):
            try:
                services.delivery_resend(delivery_id=delivery_id, by=request.user)
            except DeliveryNotResendable as error:
                self.message_user(
                    request, f"Delivery {delivery_id} not resent: {error.detail}", messages.ERROR
                )
            else:
                resent += 1
        if resent:
            self.message_user(
                request, f"Queued {_count(resent, 'delivery', 'deliveries')} to send again."
            )


@admin.register(Subscription)
class SubscriptionAdmin(SupervisorsReadOnlyAdmin):
    list_display = ["email", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "email",
        "status",
        "source_chat",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "last_offer_at",
    ]
    actions = ["unsubscribe_selected", "confirm_selected"]

    @admin.action(description="Unsubscribe", permissions=["supervise"])
    def unsubscribe_selected(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        # A customer who asked support (by phone, by mail) to stop the news.
        emails = list(
            queryset.exclude(status=Subscription.Status.UNSUBSCRIBED).values_list(
                "email", flat=True
            )
        )
        for email in emails:
            offers.subscription_unsubscribe(email=email)
        self.message_user(request, f"Unsubscribed {_count(len(emails), 'address', 'addresses')}.")

    @admin.action(description="Mark confirmed", permissions=["supervise"])
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        # Pending ones only: an address that unsubscribed said no, and only its owner (through
        # a fresh confirm link) may take that back; staff cannot subscribe it again.
        emails = list(
            queryset.filter(status=Subscription.Status.PENDING).values_list("email", flat=True)
        )
        for email in emails:
            offers.subscription_confirm(email=email)
        text = f"Confirmed {_count(len(emails), 'address', 'addresses')}."
        refused = queryset.filter(status=Subscription.Status.UNSUBSCRIBED).count()
        if refused:
            gone = _count(refused, "unsubscribed address", "unsubscribed addresses")
            text += f" {gone} left as they are."
        self.message_user(request, text)


class TranscriptsChatAdmin(ChatAdmin):
    """The chat admin with transcripts' action. chat sits below transcripts and may not call
    its services, so transcripts registers this subclass in chat's place (its admin module
    loads after chat's, which it imports)."""

    actions = [*ChatAdmin.actions, "resend_transcript"]

    @admin.action(description="Resend transcript", permissions=["supervise"])
    def resend_transcript(self, request: HttpRequest, queryset: QuerySet[Chat]) -> None:
        rows = queryset.values_list(
            "pk", "status", "customer__email", "customer__consent_transcript"
        )
        done, skipped = 0, Counter[str]()
        for chat_id, status, email, consent in rows:
            if status != Chat.Status.CLOSED:
                skipped["not closed"] += 1
                continue
            if not email or not consent:
                # The customer did not ask for it: staff cannot send it on their behalf.
                skipped["no transcript consent"] += 1
                continue
            delivery_id = (
                Delivery.objects.filter(chat_id=chat_id, kind=Delivery.Kind.TRANSCRIPT)
                .values_list("pk", flat=True)
                .first()
            )
            try:
                if delivery_id is None:
                    # Never queued (the chat closed before transcripts ran, or it failed to).
                    services.transcript_queue(chat_id=chat_id)
                else:
                    services.delivery_resend(delivery_id=delivery_id, by=request.user)
            except DeliveryNotResendable as error:
                skipped[error.detail] += 1
            except DomainError as error:
                skipped[error.code] += 1
            else:
                done += 1
        self.message_user(
            request,
            action_summary("queued", done, skipped),
            messages.WARNING if skipped else messages.SUCCESS,
        )


admin.site.unregister(Chat)
admin.site.register(Chat, TranscriptsChatAdmin)
