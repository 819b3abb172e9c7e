"""What supervisors may do in the admin, shared by every app's admin (floor 1: any app may
import it). Supervisors (the Supervisors group, staff) work without model permissions handed
out one by one; superusers keep Django's own rules."""

from django.contrib import admin
from django.http import HttpRequest

from helpdesk.roles import is_supervisor


class SupervisorsMayRead:
    """Mixin: supervisors see the model in the admin and read its rows."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_supervisor(request.user) or super().has_view_permission(request, obj)  # type: ignore[misc]


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
        return is_supervisor(request.user)
