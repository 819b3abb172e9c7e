"""One error format for the whole API: `{"code", "detail", "errors"?}` with a 4xx status (503
`unavailable` while the database is down).

`errors` maps field names to lists of messages for validation failures.
"""

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from helpdesk.errors import DomainError

logger = logging.getLogger(__name__)


def _first_code(detail: Any) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return getattr(detail, "code", None) or "invalid"


# How long a client should wait before retrying while the database is unavailable.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is down or restarting: a retry soon will do, not a 500 page. Django
        # reconnects on a later request by itself (CONN_HEALTH_CHECKS).
        logger.warning("database unavailable for %s", context["request"].path, exc_info=True)
        return Response(
            {"code": "unavailable", "detail": "The service is briefly unavailable; retry soon."},
            status=503,
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "detail": exc.detail, **exc.extra()}, status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling (see json_server_error)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        errors = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = {
            "code": "invalid",
            "detail": "The request has invalid fields.",
            "errors": errors,
        }
    else:
        detail = getattr(exc, "detail", str(exc))
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = {
            "code": code if isinstance(code, str) else _first_code(detail),
            "detail": str(detail),
        }
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"code": "not_found", "detail": "No such endpoint."}, status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"code": "internal_error", "detail": "Something went wrong on our side."}, status=500
    )
