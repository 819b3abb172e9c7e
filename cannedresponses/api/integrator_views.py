"""The integrators' canned-response API (/api/v1/canned-responses/, docs/api.md).

A token acts as its user: an agent reads the shared and topic responses and their own personal
ones (never another agent's), and writes only their own; supervisors also read inactive ones
and write shared and topic ones. Writes go through `cannedresponses.services`, the console's.
The console's endpoints (/api/v1/console/canned-responses/) are unchanged.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from cannedresponses import selectors, services
from cannedresponses.api.integrator_serializers import (
    ApiCannedResponseOutput,
    CannedResponseApiQuery,
)
from cannedresponses.api.serializers import CannedResponseCreateInput, CannedResponseUpdateInput
from cannedresponses.api.writes import create_from_input, update_from_input
from helpdesk.api.access import IntegratorApi, request_is_supervisor
from helpdesk.api.integrator_common import (
    COMMON_ERRORS,
    LIST_ERRORS,
    IntegratorListApi,
    cursor_page,
    error,
    query_of,
)

TAG = "integrations: canned responses"

_NOT_FOUND = error(
    "`canned_response_not_found`: no such response, or another agent's personal one."
)
_WRITE_ERRORS = {
    400: error("`invalid` (see `errors`: placeholders, a shortcut taken in this scope, …)."),
    401: COMMON_ERRORS[401],
    403: error(
        "`permission_denied`, `read_only_token` or `forbidden` (shared and topic responses are "
        "for supervisors)."
    ),
    429: COMMON_ERRORS[429],
}


def _may_manage_shared(request: Request) -> bool:
    return bool(getattr(request.user, "is_superuser", False)) or request_is_supervisor(request)


def _output(request: Request, rows: Any, *, many: bool = False) -> Any:
    context = {"may_manage_shared": _may_manage_shared(request)}
    return ApiCannedResponseOutput(rows, many=many, context=context).data


class CannedResponseListApi(IntegratorListApi):
    @extend_schema(
        tags=[TAG],
        summary="List canned responses",
        description="Newest first: the shared and topic responses and the token user's own "
        "personal ones. Agents see active shared and topic responses only.",
        parameters=[CannedResponseApiQuery],
        responses={200: ApiCannedResponseOutput(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = query_of(CannedResponseApiQuery, request)
        rows = selectors.responses_for_api(
            agent=request.user,
            include_inactive=request_is_supervisor(request),
            topic_id=query.get("topic"),
            scope=query.get("scope"),
            active=query["active"],
            search=query.get("q"),
        )
        return cursor_page(self, request, rows, lambda page: _output(request, page, many=True))

    @extend_schema(
        tags=[TAG],
        summary="Create a canned response",
        description="Personal by default (the token's user owns it); `shared` and `topic` "
        "need a supervisor.",
        request=CannedResponseCreateInput,
        responses={201: ApiCannedResponseOutput, **_WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = CannedResponseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        response = create_from_input(actor=request.user, values=data.validated_data)
        row = selectors.response_with_use(agent=request.user, response_id=response.pk)
        return Response(_output(request, row), status=status.HTTP_201_CREATED)


class CannedResponseDetailApi(IntegratorApi):
    @extend_schema(
        tags=[TAG],
        summary="One canned response",
        responses={200: ApiCannedResponseOutput, **COMMON_ERRORS, 404: _NOT_FOUND},
    )
    def get(self, request: Request, response_id: int) -> Response:
        selectors.response_get_for_agent(agent=request.user, response_id=response_id)
        row = selectors.response_with_use(agent=request.user, response_id=response_id)
        return Response(_output(request, row))

    @extend_schema(
        tags=[TAG],
        summary="Change a canned response",
        description="The user's own personal responses; shared and topic ones for "
        "supervisors. Fields left out are unchanged.",
        request=CannedResponseUpdateInput,
        responses={200: ApiCannedResponseOutput, **_WRITE_ERRORS, 404: _NOT_FOUND},
    )
    def patch(self, request: Request, response_id: int) -> Response:
        data = CannedResponseUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        update_from_input(actor=request.user, response_id=response_id, values=data.validated_data)
        row = selectors.response_with_use(agent=request.user, response_id=response_id)
        return Response(_output(request, row))

    @extend_schema(
        tags=[TAG],
        summary="Delete a canned response",
        responses={204: None, **_WRITE_ERRORS, 404: _NOT_FOUND},
    )
    def delete(self, request: Request, response_id: int) -> Response:
        services.canned_response_delete(actor=request.user, response_id=response_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
