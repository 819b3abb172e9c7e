from django.conf import settings


def is_widget_origin(origin: str) -> bool:
    """Is `origin` (scheme://host[:port]) one of the websites allowed to embed the widget?"""
    wanted = origin.rstrip("/").lower()
    return bool(wanted) and wanted in {
        o.rstrip("/").lower() for o in settings.HELPDESK_WIDGET_ORIGINS
    }
