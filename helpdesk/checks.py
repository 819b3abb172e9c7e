"""System checks that catch a production deployment running on the development defaults."""

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def check_production_services(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if backend == "channels.layers.InMemoryChannelLayer":
        warnings.append(
            Warning(
                "The in-memory channel layer only works within one process.",
                hint="Set REDIS_URL so that every daphne process shares the channel layer.",
                id="helpdesk.W001",
            )
        )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        warnings.append(
            Warning(
                "Celery runs tasks eagerly, inside the request that queued them.",
                hint="Set REDIS_URL (or CELERY_BROKER_URL) and run a Celery worker.",
                id="helpdesk.W002",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        warnings.append(
            Warning(
                "SQLite serialises every write; live chat needs PostgreSQL in production.",
                hint="Set DATABASE_URL=postgres://…",
                id="helpdesk.W003",
            )
        )
    return warnings
