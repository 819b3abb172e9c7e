from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.core.signals import request_finished
from django.db.models.signals import post_delete, post_save


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from helpdesk import checks  # noqa: F401  (registers the system checks)
        from helpdesk.api import access  # noqa: F401  (registers the token's OpenAPI scheme)
        from helpdesk.db import close_request_connections
        from helpdesk.models import WebhookSubscription
        from helpdesk.webhooks import listened_events_forget

        for signal in (post_save, post_delete):
            signal.connect(
                listened_events_forget,
                sender=WebhookSubscription,
                dispatch_uid=f"webhooks-forget-{signal}",
            )
        request_finished.connect(close_request_connections, dispatch_uid="close-request-db")


class HelpdeskAdminConfig(AdminConfig):
    """django.contrib.admin with the supervisors' site as `admin.site`: every app's
    `@admin.register` and every `admin_view` (the live and metrics pages) get its permission
    check without a line of their own."""

    default_site = "helpdesk.admin_roles.SupervisorsAdminSite"
