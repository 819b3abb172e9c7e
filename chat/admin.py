from django.contrib import admin

from chat.models import Chat, ChatEvent, Message


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
class ChatAdmin(admin.ModelAdmin):
    # Read-only: every state change goes through chat.services, never a raw save.
    list_display = ["id", "customer", "topic", "agent", "status", "created_at", "closed_at"]
    list_filter = ["status", "topic"]
    search_fields = ["customer__name", "customer__email", "agent__username"]
    date_hierarchy = "created_at"
    list_select_related = ["customer", "topic", "agent"]
    readonly_fields = [f.name for f in Chat._meta.fields if f.name != "customer_key"]
    exclude = ["customer_key"]
    inlines = [ChatEventInline, MessageInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
