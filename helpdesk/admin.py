from django import forms
from django.contrib import admin
from django.http import HttpRequest

from helpdesk.models import (
    BusinessHours,
    Customer,
    Ticket,
    TicketReply,
    Topic,
    default_timezone,
)
from helpdesk.roles import is_supervisor

TOPIC_FIELDS = [
    "name",
    "slug",
    "is_active",
    "position",
    "amber_after_seconds",
    "red_after_seconds",
    "reply_timeout_seconds",
    "timezone",
    "offer_message_after_seconds",
]


class TopicAdminForm(forms.ModelForm):
    """The no-reply timeout is optional in the form: left empty, it is off (0)."""

    class Meta:
        model = Topic
        fields = TOPIC_FIELDS

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Left empty, these are off (0) or the site's time zone.
        for name in ("reply_timeout_seconds", "offer_message_after_seconds", "timezone"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_reply_timeout_seconds(self) -> int:
        return self.cleaned_data.get("reply_timeout_seconds") or 0

    def clean_offer_message_after_seconds(self) -> int:
        return self.cleaned_data.get("offer_message_after_seconds") or 0

    def clean_timezone(self) -> str:
        return (self.cleaned_data.get("timezone") or "").strip() or default_timezone()


class BusinessHoursInline(admin.TabularInline):
    """A topic's opening intervals, in the topic's time zone; none at all: always open."""

    model = BusinessHours
    extra = 0
    fields = ["weekday", "opens", "closes"]
    ordering = ["weekday", "opens"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TopicAdminForm
    inlines = [BusinessHoursInline]
    list_display = TOPIC_FIELDS
    list_editable = [
        "is_active",
        "position",
        "amber_after_seconds",
        "red_after_seconds",
    ]
    fields = TOPIC_FIELDS
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "consent_transcript", "consent_marketing", "created_at"]
    list_filter = ["consent_transcript", "consent_marketing"]
    search_fields = ["name", "email"]
    date_hierarchy = "created_at"


class _SupervisorsMayRead:
    """Supervisors (the Supervisors group, staff) follow the tickets without model permissions
    being handed out one by one; superusers keep Django's rules."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_supervisor(request.user) or super().has_view_permission(request, obj)  # type: ignore[misc]


class TicketReplyInline(admin.TabularInline):
    model = TicketReply
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "body", "sent_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Answers go through the console, which emails them.
        return False


@admin.register(Ticket)
class TicketAdmin(_SupervisorsMayRead, admin.ModelAdmin):
    list_display = ["reference", "topic", "email", "status", "created_at", "answered_at"]
    list_filter = ["status", "topic", "created_at"]
    search_fields = ["reference", "email", "customer__name", "customer__email"]
    date_hierarchy = "created_at"
    list_select_related = ["topic"]
    inlines = [TicketReplyInline]
    fields = [
        "reference",
        "status",
        "topic",
        "customer",
        "email",
        "chat",
        "body",
        "created_at",
        "answered_at",
        "closed_at",
        "confirmation_sent_at",
    ]
    # Read-only: tickets change through the console (answers are emailed from there).
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
