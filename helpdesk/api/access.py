"""Who may use the integrators' API (/api/v1/), and how fast.

Two ways in: an API token (`Authorization: Bearer hd_…`, made in the admin) or the console's
session (CSRF applies to unsafe methods). Either way the caller is a user who is an agent or a
supervisor and gets that user's access; a token's scope narrows it (a read token never
writes). Every integrator endpoint uses `IntegratorApi` so the rules live in one place.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from helpdesk.api_tokens import TokenInvalid, api_token_authenticate
from helpdesk.models import ApiToken
from helpdesk.roles import is_agent, is_supervisor

BEARER = "bearer"
# Ids are below 2**63 (BigAutoField): 18 digits always fit.
MAX_ID_DIGITS = 18


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer hd_…`. A request without it falls through to the session."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != BEARER:
            return None
        raw = raw.strip()
        if not raw or " " in raw:
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Bearer <token>`.", code="token_invalid"
            )
        try:
            token = api_token_authenticate(raw)
        except TokenInvalid as error:
            raise exceptions.AuthenticationFailed(error.detail, code=error.code) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "helpdesk.api.access.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token made in the admin (API tokens): `hd_…`.",
        }


def request_is_staff(request: Request) -> bool:
    """Agent or supervisor, asked once per request (each check is a query)."""
    cached: bool | None = getattr(request, "_helpdesk_is_staff", None)
    if cached is None:
        # Through request_is_supervisor, so SupervisorsOnly asks no second time.
        cached = request_is_supervisor(request) or is_agent(request.user)
        request._helpdesk_is_staff = cached  # type: ignore[attr-defined]
    return cached


def request_is_supervisor(request: Request) -> bool:
    cached: bool | None = getattr(request, "_helpdesk_is_supervisor", None)
    if cached is None:
        cached = is_supervisor(request.user)
        request._helpdesk_is_supervisor = cached  # type: ignore[attr-defined]
    return cached


class ApiAccess(BasePermission):
    """An agent or a supervisor; a read token only reads."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False  # DRF turns this into 401 not_authenticated
        if not request_is_staff(request):
            self.message = "Only agents and supervisors may use the API."
            self.code = "permission_denied"
            return False
        token = request.auth
        if (
            isinstance(token, ApiToken)
            and request.method not in SAFE_METHODS
            and not token.can_write
        ):
            self.message = "This token may only read (its scope is read)."
            self.code = "read_only_token"
            return False
        return True


class SupervisorsOnly(BasePermission):
    """For team-wide reads (metrics, every agent's status)."""

    message = "Only supervisors may read this."
    code = "permission_denied"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request_is_supervisor(request)


class ApiTokenThrottle(SimpleRateThrottle):
    """Per token, at the token's own rate; session callers per user at the default rate."""

    scope = "api"

    def __init__(self) -> None:  # the rate depends on the request, see allow_request
        pass

    def allow_request(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if isinstance(token, ApiToken):
            self.num_requests, self.duration = token.requests_per_minute, 60
            ident = f"token:{token.pk}"
        else:
            self.num_requests, self.duration = 600, 60
            ident = f"user:{request.user.pk}"
        self.key = f"throttle_api_{ident}"
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()


class IdCursorPagination(CursorPagination):
    """Newest first, stable under inserts: the cursor is opaque, `limit` is 1 to 200.

    `limit` above 200 counts as 200 (DRF's rule); one that is not a whole number of at least
    1 is 400 `invalid` with `errors.limit` (DRF would quietly use the default). A cursor that is
    not one of this list's `next`/`previous` links is 404 `not_found` (DRF's rule).
    """

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        f"A whole number of at least 1 (pages hold {self.max_page_size} at most)."
                    ]
                }
            )
        # Compared as text first: int() of a thousand digits is refused by Python itself.
        if len(raw.lstrip("0")) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(raw), self.max_page_size)

    def decode_cursor(self, request: Request) -> Any:
        cursor = super().decode_cursor(request)  # NotFound (404 `not_found`) if undecodable
        # The position is compared with ids in SQL: a forged cursor holding "abc" or a
        # 30-digit number would crash the query (a 500) instead of being refused like any
        # other cursor this list did not give out.
        position = cursor.position if cursor is not None else None
        if position is not None and not (
            position.isascii() and position.isdigit() and len(position) <= MAX_ID_DIGITS
        ):
            raise exceptions.NotFound(self.invalid_cursor_message)
        return cursor


class IntegratorAccess:
    """Mixin of every integrator endpoint (with APIView or a generic view): token or session,
    staff only, per-token rate. Add SupervisorsOnly to permission_classes for team-wide reads."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes: list[type[BasePermission]] = [ApiAccess]
    throttle_classes = [ApiTokenThrottle]


class IntegratorApi(IntegratorAccess, APIView):
    pass
