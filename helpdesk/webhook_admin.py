"""Webhooks in the supervisors' admin (docs/webhooks.md): subscriptions (events as checkboxes,
the signing secret shown, a test ping, re-enabling one disabled after failures) and the log of
deliveries (read-only, with a redeliver action). Every change goes through helpdesk.webhooks."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from helpdesk import webhooks
from helpdesk.admin_roles import SupervisorsManage, SupervisorsReadOnlyAdmin
from helpdesk.models import WEBHOOK_EVENTS, WebhookDelivery, WebhookSubscription


class WebhookSubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=WEBHOOK_EVENTS,
        widget=forms.CheckboxSelectMultiple,
        help_text="The events sent to this URL.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events", "is_active"]

    def clean_events(self) -> list[str]:
        chosen = self.cleaned_data["events"]
        # In the catalogue's order: the stored list reads the same whatever was ticked first.
        return [name for name, _ in WEBHOOK_EVENTS if name in chosen]


class FlaggedFilter(admin.SimpleListFilter):
    title = "disabled after failures"
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Disabled after failures"), ("no", "Not disabled")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]
    ) -> QuerySet[WebhookSubscription]:
        if self.value() == "yes":
            return queryset.filter(disabled_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(disabled_at__isnull=True)
        return queryset


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SupervisorsManage, admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["name", "url", "event_list", "is_active", "state", "failure_streak"]
    list_filter = ["is_active", FlaggedFilter]
    search_fields = ["name", "url"]
    readonly_fields = [
        "secret",
        "state",
        "failure_streak",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "created_by",
    ]
    actions = ["send_test_ping", "reenable"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(WebhookSubscriptionForm.Meta.fields)
        # The secret exists once the subscription is saved; shown on its page from then on.
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description="events")
    def event_list(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.events)

    @admin.display(description="state")
    def state(self, obj: WebhookSubscription) -> str:
        if obj.disabled_at:
            return format_html(
                '<strong style="color:#ba2121">Disabled after failures</strong> ({})',
                obj.disabled_reason,
            )
        return "Active" if obj.is_active else "Paused"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            messages.info(
                request,
                "Receivers verify each delivery with this subscription's secret, shown on its "
                "page (docs/webhooks.md).",
            )

    @admin.action(description="Send a test ping", permissions=["change"])
    def send_test_ping(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        deliveries = webhooks.ping_send(
            subscription_ids=queryset.values_list("pk", flat=True), by=request.user
        )
        # With eager Celery the ping was sent already: say how it went.
        results = WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).select_related(
            "subscription"
        )
        for delivery in results:
            if delivery.status == WebhookDelivery.Status.DELIVERED:
                self.message_user(
                    request,
                    f"{delivery.subscription}: ping delivered (HTTP {delivery.response_code}).",
                    messages.SUCCESS,
                )
            elif delivery.status == WebhookDelivery.Status.FAILED:
                error = delivery.last_error.splitlines()[-1] if delivery.last_error else ""
                self.message_user(
                    request, f"{delivery.subscription}: ping failed. {error}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    f"{delivery.subscription}: ping queued; see the webhook deliveries.",
                    messages.INFO,
                )

    @admin.action(description="Re-enable the selected subscriptions", permissions=["change"])
    def reenable(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        count = sum(
            webhooks.subscription_reenable(subscription_pk=pk)
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{count} subscription(s) re-enabled.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SupervisorsReadOnlyAdmin):
    list_display = [
        "event",
        "subscription",
        "status",
        "response_code",
        "attempts",
        "created_at",
        "last_attempt_at",
        "delivered_at",
        "delivery_id",
    ]
    list_filter = ["status", "event", "subscription"]
    list_select_related = ["subscription"]
    date_hierarchy = "created_at"
    fields = [
        "delivery_id",
        "subscription",
        "event",
        "status",
        "attempts",
        "response_code",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "payload_pretty",
        "history",
    ]
    readonly_fields = fields
    actions = ["redeliver"]

    @admin.display(description="payload (data)")
    def payload_pretty(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.display(description="history")
    def history(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", obj.last_error) if obj.last_error else "-"

    @admin.action(description="Redeliver the selected deliveries", permissions=["supervise"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        queued = skipped = 0
        for pk in queryset.values_list("pk", flat=True):
            if webhooks.delivery_redeliver(delivery_pk=pk, by=request.user):
                queued += 1
            else:
                skipped += 1
        text = f"{queued} delivery(ies) queued again"
        if skipped:
            text += f", {skipped} skipped: their subscription is not active"
        self.message_user(request, text + ".", messages.SUCCESS if queued else messages.WARNING)
