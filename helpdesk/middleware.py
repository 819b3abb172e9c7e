"""CORS for the public chat API, so the widget can start a chat from an allowed website.

Only `/api/v1/public/` answers cross-origin, only to HELPDESK_WIDGET_ORIGINS, and never with
credentials: the public API is anonymous and the customer's token travels in the body.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from helpdesk.origins import is_widget_origin

PUBLIC_API_PREFIX = "/api/v1/public/"


class WidgetCorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        allowed = request.path.startswith(PUBLIC_API_PREFIX) and is_widget_origin(origin)
        if allowed and request.method == "OPTIONS":
            response = HttpResponse(status=204)
        else:
            response = self.get_response(request)
        if request.path.startswith(PUBLIC_API_PREFIX):
            # The answer depends on Origin: shared caches must not serve one origin's to another.
            patch_vary_headers(response, ["Origin"])
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Max-Age"] = "600"
        return response
