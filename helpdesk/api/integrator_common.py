"""What every integrator endpoint shares: validated query strings, cursor pages and the
documented error responses (each app's integrator views import these; the core imports none
of theirs)."""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.access import IdCursorPagination, IntegratorApi
from helpdesk.api.serializers import ApiErrorOutput

M = TypeVar("M", bound=Model)


def query_of(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request's query string through `serializer_class`: 400 `invalid` with the fields
    at fault otherwise. Unknown parameters are ignored (as everywhere in the API)."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def cursor_page(
    view: APIView,
    request: Request,
    queryset: QuerySet[M],
    shape: Callable[[list[M]], Iterable[Any]],
) -> Response:
    """One page of `queryset` (newest first, `limit` 1 to 200, an opaque `cursor`): one query
    for the rows, then `shape` turns them into the response's `results`. An invalid cursor is
    404 `not_found` (DRF's rule)."""
    paginator_class: type[IdCursorPagination] = getattr(
        view, "pagination_class", IdCursorPagination
    )
    paginator = paginator_class()
    page = paginator.paginate_queryset(queryset, request, view=view) or []
    return paginator.get_paginated_response(list(shape(list(page))))


def rows_as(
    output_class: type[serializers.Serializer], row: Callable[[M], dict[str, Any]]
) -> Callable[[list[M]], Any]:
    """`cursor_page`'s `shape` for a list whose rows are `row(instance)`, each through
    `output_class`."""
    return lambda page: output_class([row(instance) for instance in page], many=True).data


class IntegratorListApi(IntegratorApi):
    """An integrator endpoint whose GET is a list of `cursor_page`s: the pagination class also
    makes the schema describe the page (`next`, `previous`, `results`; `cursor`, `limit`)."""

    pagination_class = IdCursorPagination


def staff_name(user: Any) -> str:
    """How the API names a staff member: full name, or the username without one."""
    return str(user.get_full_name() or user.get_username())


def user_ref(user: Any) -> dict[str, Any] | None:
    """A staff user as every integrator answer names one (ApiUserRefOutput); None for none."""
    if user is None:
        return None
    return {"id": user.pk, "name": staff_name(user)}


def topic_ref(topic: Any) -> dict[str, Any]:
    """A topic as every integrator answer names one (ApiTopicRefOutput)."""
    return {"id": topic.pk, "slug": topic.slug, "name": topic.name}


def customer_ref(customer: Any) -> dict[str, Any]:
    """A customer as every integrator answer names one (ApiCustomerRefOutput)."""
    return {"id": customer.pk, "name": customer.name, "email": customer.email}


# --- Documented errors (drf-spectacular) ---------------------------------------------------------


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ApiErrorOutput, description=description)


INVALID = error("`invalid`: `errors` maps each field at fault to its messages.")
UNAUTHENTICATED = error(
    "`not_authenticated` (no credentials), `token_invalid`, `token_revoked` or `token_expired`."
)
FORBIDDEN = error(
    "`permission_denied` (the user is neither an agent nor a supervisor) or `read_only_token` "
    "(a read token sent a write)."
)
THROTTLED = error("`throttled`: past the token's requests per minute (see `Retry-After`).")
BAD_CURSOR = error("`not_found`: the `cursor` is not one this list gave out.")

# Every integrator endpoint may answer these.
COMMON_ERRORS: dict[int, OpenApiResponse] = {
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    429: THROTTLED,
}
# Lists: a query string that does not validate, and a forged cursor.
LIST_ERRORS: dict[int, OpenApiResponse] = {400: INVALID, **COMMON_ERRORS, 404: BAD_CURSOR}
