from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from helpdesk.admin_roles import SupervisorsManage, SupervisorsReadOnlyAdmin
from routing.models import AgentProfile, ConsoleConnection, Transfer
from routing.selectors import profiles_with_load


@admin.register(AgentProfile)
class AgentProfileAdmin(SupervisorsManage, admin.ModelAdmin):
    """Supervisors set each agent's skills and limit here; presence sets the status."""

    list_display = [
        "user",
        "seniority",
        "max_chats",
        "open_chats",
        "status",
        "console_open",
        "skills",
        "last_assigned_at",
    ]
    list_filter = ["seniority", "status", "topics"]
    list_editable = ["seniority", "max_chats"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    filter_horizontal = ["topics"]
    autocomplete_fields = ["user"]
    readonly_fields = ["status_changed_at", "last_assigned_at", "last_disconnected_at"]
    list_select_related = ["user"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentProfile]:
        # The selector's annotated queryset, narrowed by the admin's own ordering and joins.
        return profiles_with_load().select_related("user")

    @admin.display(description="open chats", ordering="open_chats")
    def open_chats(self, obj: AgentProfile) -> int:
        return obj.open_chats  # type: ignore[attr-defined]

    @admin.display(description="console open", boolean=True, ordering="present")
    def console_open(self, obj: AgentProfile) -> bool:
        # The status is what the agent chose; the router also needs a live console.
        return bool(obj.present)  # type: ignore[attr-defined]

    @admin.display(description="skills")
    def skills(self, obj: AgentProfile) -> str:
        # No skills set: a generalist, given chats of every topic (docs/routing.md).
        return ", ".join(topic.name for topic in obj.topics.all()) or "every topic"


@admin.register(ConsoleConnection)
class ConsoleConnectionAdmin(admin.ModelAdmin):
    """Open consoles, for supervisors to see who is there. Written by presence only."""

    list_display = ["agent", "channel_name", "opened_at", "last_seen_at"]
    search_fields = ["agent__username"]
    list_select_related = ["agent"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Transfer)
class TransferAdmin(SupervisorsReadOnlyAdmin):
    """Every transfer and escalation, for supervisors to follow. Written by the console only."""

    list_display = [
        "created_at",
        "chat",
        "kind",
        "status",
        "from_agent",
        "requested_by",
        "to_agent",
        "to_topic",
        "reason",
        "decided_at",
    ]
    list_filter = ["kind", "status", "to_topic"]
    search_fields = ["from_agent__username", "to_agent__username", "note"]
    list_select_related = ["chat", "from_agent", "requested_by", "to_agent", "to_topic"]
    date_hierarchy = "created_at"


# Proactive chat invitations: their admin lives in its own module (registered on import).
from routing import invitation_admin  # noqa: E402, F401
