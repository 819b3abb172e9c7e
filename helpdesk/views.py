from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from helpdesk.api.errors import json_not_found, json_server_error

API_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)  # type: ignore[arg-type]


def server_error(request: HttpRequest) -> HttpResponse | JsonResponse:
    if request.path.startswith(API_PREFIX):
        return json_server_error(request)
    return defaults.server_error(request)
