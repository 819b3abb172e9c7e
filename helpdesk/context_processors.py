from typing import Any

from django.conf import settings
from django.http import HttpRequest


def brand(request: HttpRequest) -> dict[str, Any]:
    return {"brand_name": settings.HELPDESK_BRAND_NAME}
