"""The console's REST API for canned responses, phrase suggestions and the tone guard.

Agents only (the session of the console, with its CSRF token); anyone else gets 403 JSON.
Views validate, call one selector or service, and shape the answer: the rules live in
`cannedresponses.services` and `cannedresponses.selectors`.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from cannedresponses import placeholders, selectors, services
from cannedresponses.api.serializers import (
    CannedResponseCreateInput,
    CannedResponseListQuery,
    CannedResponseOutput,
    CannedResponseUpdateInput,
    PhraseOutput,
    PhraseQuery,
    PlaceholderOutput,
    RenderInput,
    RenderOutput,
    ToneCheckInput,
    ToneCheckOutput,
    ToneRuleOutput,
)
from cannedresponses.api.writes import create_from_input, update_from_input
from chat.api.serializers import ErrorOutput
from chat.selectors import chat_get_for_agent, staff_access
from helpdesk.roles import is_agent

TAG = "console: canned responses"
TONE_TAG = "console: tone guard"

_errors = {
    400: OpenApiResponse(ErrorOutput, description="`invalid` (see `errors`) or a domain code."),
    403: OpenApiResponse(
        ErrorOutput,
        description="`not_authenticated`, `permission_denied` (not an agent, or no CSRF "
        "token) or `forbidden` (shared responses are for supervisors).",
    ),
}
_not_found = {404: OpenApiResponse(ErrorOutput, description="`canned_response_not_found`.")}


class IsAgent(BasePermission):
    message = "Only agents may use the console."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_agent(request.user)


class _ConsoleThrottle(ScopedRateThrottle):
    """Rates read at call time, like every setting (DRF copies them at import otherwise)."""

    @property
    def THROTTLE_RATES(self) -> dict[str, str | None]:  # type: ignore[override]
        return api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[no-any-return]


class _ConsoleApi(APIView):
    # Session authentication (DRF's default here) enforces CSRF for every unsafe method.
    permission_classes = [IsAuthenticated, IsAgent]


class _TypingApi(_ConsoleApi):
    # Called as the agent types (debounced by the console): bounded per agent.
    throttle_classes = [_ConsoleThrottle]
    throttle_scope = "console_assist"


def _output(request: Request, response: Any, *, many: bool = False) -> dict[str, Any]:
    context = {"may_manage_shared": services.may_manage_shared(request.user)}
    return CannedResponseOutput(response, many=many, context=context).data  # type: ignore[return-value]


class CannedResponseListCreateApi(_ConsoleApi):
    @extend_schema(
        tags=[TAG],
        summary="The canned responses an agent may insert",
        description="With `chat`: the shared responses, those of the chat's topic and the "
        "agent's own, ranked by the agent's use (count, last use, title). Without it: the "
        "shared ones, the agent's own and those of every topic whose queue the agent follows "
        "(all topics for supervisors and agents without skills). Active responses only, at "
        "most 500.",
        parameters=[CannedResponseListQuery],
        responses={
            200: CannedResponseOutput(many=True),
            **_errors,
            404: OpenApiResponse(ErrorOutput, description="`chat_not_found`."),
        },
    )
    def get(self, request: Request) -> Response:
        query = CannedResponseListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        agent = request.user
        # Computed once: the chat's visibility and the `editable` flags both need it.
        access = staff_access(user=agent)
        chat_id = query.validated_data.get("chat")
        if chat_id is not None:
            chat = chat_get_for_agent(chat_id=chat_id, agent=agent, access=access)
            rows = selectors.responses_for(agent=agent, topic=chat.topic)
        else:
            rows = selectors.responses_for_topics(agent=agent, topic_ids=access.queue_topics)
        may_manage = bool(getattr(agent, "is_superuser", False)) or access.is_supervisor
        return Response(
            CannedResponseOutput(rows, many=True, context={"may_manage_shared": may_manage}).data
        )

    @extend_schema(
        tags=[TAG],
        summary="Create a canned response",
        description="Agents create personal responses; `shared` and `topic` need a supervisor.",
        request=CannedResponseCreateInput,
        responses={201: CannedResponseOutput, **_errors},
    )
    def post(self, request: Request) -> Response:
        data = CannedResponseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        response = create_from_input(actor=request.user, values=data.validated_data)
        return Response(_output(request, response), status=status.HTTP_201_CREATED)


class CannedResponseDetailApi(_ConsoleApi):
    @extend_schema(
        tags=[TAG],
        summary="One canned response",
        responses={200: CannedResponseOutput, **_errors, **_not_found},
    )
    def get(self, request: Request, response_id: int) -> Response:
        selectors.response_get_for_agent(agent=request.user, response_id=response_id)
        row = selectors.response_with_use(agent=request.user, response_id=response_id)
        return Response(_output(request, row))

    @extend_schema(
        tags=[TAG],
        summary="Change a canned response",
        description="The agent's own personal responses; shared and topic ones for "
        "supervisors. Another agent's personal response is 404.",
        request=CannedResponseUpdateInput,
        responses={200: CannedResponseOutput, **_errors, **_not_found},
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
        responses={204: None, **_errors, **_not_found},
    )
    def delete(self, request: Request, response_id: int) -> Response:
        services.canned_response_delete(actor=request.user, response_id=response_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CannedResponseRenderApi(_ConsoleApi):
    @extend_schema(
        tags=[TAG],
        summary="Render a canned response for a chat",
        description="Fills the placeholders for the chat and the agent's `values` for its "
        "asks, counts one use, and returns the text for the composer (nothing is sent). "
        "Missing asks: 400 `values_missing` with `missing` (the labels).",
        request=RenderInput,
        responses={
            200: RenderOutput,
            **_errors,
            404: OpenApiResponse(
                ErrorOutput, description="`canned_response_not_found` or `chat_not_found`."
            ),
            409: OpenApiResponse(ErrorOutput, description="`body_invalid`."),
        },
    )
    def post(self, request: Request, response_id: int) -> Response:
        data = RenderInput(data=request.data)
        data.is_valid(raise_exception=True)
        response = selectors.response_get_for_agent(
            agent=request.user, response_id=response_id, active_only=True
        )
        chat = chat_get_for_agent(chat_id=data.validated_data["chat"], agent=request.user)
        text = services.canned_render(
            response=response,
            chat=chat,
            agent=request.user,
            values=data.validated_data["values"],
        )
        return Response(RenderOutput({"text": text}).data)


class PlaceholderListApi(_ConsoleApi):
    @extend_schema(
        tags=[TAG],
        summary="The placeholders a body may use",
        description="Besides these: {name|fallback}, {ask:Label}, and {{ }} for literal braces.",
        responses={200: PlaceholderOutput(many=True), **_errors},
    )
    def get(self, request: Request) -> Response:
        rows = [
            {"name": name, "description": description}
            for name, description in placeholders.PLACEHOLDERS.items()
        ]
        return Response(PlaceholderOutput(rows, many=True).data)


class PhraseSuggestionApi(_TypingApi):
    @extend_schema(
        tags=[TAG],
        summary="Completions from the agent's own frequent phrases",
        description="Sentence openings (3-8 words) the agent wrote in at least two of their "
        "last 500 messages, starting with `prefix` (ignoring case), most frequent first.",
        parameters=[PhraseQuery],
        responses={
            200: PhraseOutput(many=True),
            **_errors,
            429: OpenApiResponse(ErrorOutput, description="`throttled`."),
        },
    )
    def get(self, request: Request) -> Response:
        query = PhraseQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.phrase_suggestions(
            agent=request.user,
            prefix=query.validated_data["prefix"],
            limit=query.validated_data["limit"],
        )
        rows = [{"phrase": phrase.text, "count": phrase.count} for phrase in found]
        return Response(PhraseOutput(rows, many=True).data)


class ToneRuleListApi(_ConsoleApi):
    @extend_schema(
        tags=[TONE_TAG],
        summary="The active tone rules",
        description="For the console's warning as the agent types; POST tone-check/ is the "
        "server's answer on a whole text.",
        responses={200: ToneRuleOutput(many=True), **_errors},
    )
    def get(self, request: Request) -> Response:
        return Response(ToneRuleOutput(selectors.tone_rules_active(), many=True).data)


class ToneCheckApi(_TypingApi):
    @extend_schema(
        tags=[TONE_TAG],
        summary="Words, phrases and acronyms of a text that are off the brand's voice",
        request=ToneCheckInput,
        responses={
            200: ToneCheckOutput,
            **_errors,
            429: OpenApiResponse(ErrorOutput, description="`throttled`."),
        },
    )
    def post(self, request: Request) -> Response:
        data = ToneCheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        matches = selectors.tone_matches(data.validated_data["text"])
        return Response(ToneCheckOutput({"matches": matches}).data)
