"""What supervisors may do in the admin, shared by every app's admin (floor 1: any app may
import it). Supervisors (the Supervisors group, staff) work without model permissions handed
out one by one; superusers keep Django's own rules."""

from django.contrib import admin
from django.http import HttpRequest

from helpdesk.roles import is_supervisor


def request_is_supervisor(request: HttpRequest) -> bool:
    """is_supervisor, asked once per request: the admin checks permissions for every model on
    every page (60 times for the chat list), and each check would be a query."""
    cached: bool | None = getattr(request, "_helpdesk_is_supervisor", None)
    if cached is None:
        cached = is_supervisor(request.user)
        request._helpdesk_is_supervisor = cached  # type: ignore[attr-defined]
    return cached


class SupervisorsAdminSite(admin.AdminSite):
    """The admin is the supervisors' cockpit: staff alone is not enough, because agents may be
    staff for other reasons (an old grant, a shared account) and the admin shows every chat and
    customer. Refused users get Django's own answer: the login page saying they are not
    authorised."""

    site_header = "Helpdesk administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not super().has_permission(request):
            return False
        return bool(user.is_superuser) or request_is_supervisor(request)  # type: ignore[union-attr]


class SupervisorsMayRead:
    """Mixin: supervisors see the model in the admin and read its rows."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request_is_supervisor(request) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request_is_supervisor(request) or super().has_view_permission(request, obj)  # type: ignore[misc]


class SupervisorsManage(SupervisorsMayRead):
    """Mixin: supervisors also add, edit and delete the rows (the team's setup: topics, agent
    profiles, canned responses, articles), without model permissions handed out one by one;
    superusers keep Django's rules. Fits inlines too."""

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return request_is_supervisor(request) or super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request_is_supervisor(request) or super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request_is_supervisor(request) or super().has_delete_permission(request, obj)  # type: ignore[misc]


class SupervisorsReadOnlyAdmin(SupervisorsMayRead, admin.ModelAdmin):
    """Supervisors read; nobody adds, edits or deletes a row here, because every change goes
    through a service (admin actions call them; `supervise` is the permission of those
    actions)."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Kept as the record of what happened.
        return False

    def has_supervise_permission(self, request: HttpRequest) -> bool:
        return request_is_supervisor(request)
