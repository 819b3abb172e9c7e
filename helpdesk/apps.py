from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from helpdesk import checks  # noqa: F401  (registers the system checks)


class HelpdeskAdminConfig(AdminConfig):
    """django.contrib.admin with the supervisors' site as `admin.site`: every app's
    `@admin.register` and every `admin_view` (the live and metrics pages) get its permission
    check without a line of their own."""

    default_site = "helpdesk.admin_roles.SupervisorsAdminSite"
