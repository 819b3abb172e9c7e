from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from chat.models import Chat, ChatEvent, Message
from helpdesk.admin_roles import SupervisorsReadOnlyAdmin


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["seq", "kind", "author", "body", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["seq"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ChatEventInline(admin.TabularInline):
    model = ChatEvent
    fields = ["kind", "actor", "data", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Chat)
class ChatAdmin(SupervisorsReadOnlyAdmin):
    # Read-only, supervisors included: every state change goes through chat.services.
    list_display = ["id", "customer", "topic", "agent", "status", "created_at", "closed_at"]
    list_filter = ["status", "topic"]
    search_fields = ["customer__name", "customer__email", "agent__username"]
    date_hierarchy = "created_at"
    list_select_related = ["customer", "topic", "agent"]
    readonly_fields = [
        *(f.name for f in Chat._meta.fields if f.name != "customer_key"),
        "transcript_downloads",
    ]
    exclude = ["customer_key"]
    inlines = [ChatEventInline, MessageInline]

    @admin.display(description="transcript")
    def transcript_downloads(self, chat: Chat) -> str:
        # Linked by URL name only: the downloads (the customer's email, no internal notes) are
        # the transcripts app's, which checks access itself; chat imports nothing of it.
        return format_html(
            '<a href="{}">Download HTML</a> / <a href="{}">text</a>',
            reverse("transcripts:download-html", args=[chat.pk]),
            reverse("transcripts:download-text", args=[chat.pk]),
        )
