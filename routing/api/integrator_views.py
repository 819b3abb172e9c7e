"""Routing's integrator endpoints (docs/api.md): transfer a chat, and read the agents.

A transfer goes through routing.transfers, the services the console's `transfer` frame calls,
so it answers with the console's codes and every console concerned sees it live. Reading the
team (status, load, skills) is for supervisors' tokens, like the live page.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from chat import api_selectors as chat_api_selectors
from chat.api.integrator_views import request_access
from helpdesk.api.access import ApiAccess, IntegratorApi, SupervisorsOnly
from helpdesk.api.integrator_common import (
    COMMON_ERRORS,
    LIST_ERRORS,
    IntegratorListApi,
    cursor_page,
    error,
    query_of,
    rows_as,
)
from routing import api_selectors, transfers
from routing.api.integrator_serializers import (
    AgentListQuery,
    ApiAgentOutput,
    ApiTransferInput,
    ApiTransferOutput,
    agent_data,
    transfer_data,
)


class ChatTransferApi(IntegratorApi):
    @extend_schema(
        tags=["integrations: chats"],
        summary="Transfer a chat: to a colleague, to a topic's queue, or escalate",
        description='The console\'s transfer (docs/routing.md, "Transfers and escalation"): '
        "the chat's agent or a supervisor, an active chat, a required note. To a colleague or "
        "a senior it is a request (`pending`) the receiver accepts in their console before "
        "`expires_at`; the chat stays the sender's until then. To a topic it is done at once "
        "(`completed`): the chat goes to the front of that queue. Errors use the console's "
        "codes: `note_required`, `note_too_long`, `body_invalid`, `chat_closed`, `forbidden`, "
        "`agent_not_found`, `agent_unavailable`, `transfer_to_self`, `transfer_pending`, "
        "`no_senior_available`, `topic_not_found`, `no_agents_for_topic`.",
        request=ApiTransferInput,
        responses={
            201: ApiTransferOutput,
            400: error(
                "`invalid` (see `errors`), `note_required`, `note_too_long`, `body_invalid`, "
                "`transfer_to_self`."
            ),
            **COMMON_ERRORS,
            403: error(
                "`permission_denied`, `read_only_token`, or `forbidden`: not your chat (or a "
                "queued one) and you are no supervisor."
            ),
            404: error(
                "`chat_not_found` (or not one you may read), `agent_not_found`, `topic_not_found`."
            ),
            409: error(
                "`chat_closed`, `agent_unavailable`, `transfer_pending`, "
                "`no_senior_available`, `no_agents_for_topic`."
            ),
        },
    )
    def post(self, request: Request, chat_id: int) -> Response:
        data = ApiTransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        # Readable first, as every chat endpoint: another agent's chat is not found.
        chat = chat_api_selectors.chat_for_api(
            chat_id=chat_id, user=request.user, access=request_access(request)
        )
        target: dict[str, Any] = data.validated_data["to"]
        note: str = data.validated_data["note"]
        if "agent" in target:
            transfer = transfers.transfer_to_agent(
                chat_id=chat.pk, sender=request.user, to_agent_id=target["agent"], note=note
            )
        elif "topic" in target:
            transfer = transfers.transfer_to_topic(
                chat_id=chat.pk, sender=request.user, topic_slug=target["topic"], note=note
            )
        else:
            transfer = transfers.transfer_escalate(chat_id=chat.pk, sender=request.user, note=note)
        return Response(
            ApiTransferOutput(transfer_data(transfer)).data, status=status.HTTP_201_CREATED
        )


_SUPERVISORS_ONLY = error(
    "`permission_denied`: supervisors' tokens only (or not staff); `read_only_token`."
)


class AgentListApi(IntegratorListApi):
    permission_classes = [ApiAccess, SupervisorsOnly]

    @extend_schema(
        tags=["integrations: agents"],
        summary="List the agents",
        description="Active members of Agents with their chosen status, presence (a console "
        "open), load and limit, seniority and skills. Newest accounts first, paginated by "
        "cursor like every list. Supervisors' tokens only. A `topic` that does not exist is "
        "400 `invalid`.",
        parameters=[AgentListQuery],
        responses={200: ApiAgentOutput(many=True), **LIST_ERRORS, 403: _SUPERVISORS_ONLY},
    )
    def get(self, request: Request) -> Response:
        query = query_of(AgentListQuery, request)
        topic = None
        if "topic" in query:
            topic = api_selectors.topic_by_slug(slug=query["topic"])
            if topic is None:
                raise serializers.ValidationError({"topic": ["No such topic."]})
        agents = api_selectors.agents_for_api(
            status=query.get("status"), present=query["present"], topic=topic
        )
        return cursor_page(self, request, agents, rows_as(ApiAgentOutput, agent_data))


class AgentDetailApi(IntegratorApi):
    permission_classes = [ApiAccess, SupervisorsOnly]

    @extend_schema(
        tags=["integrations: agents"],
        summary="Read an agent",
        responses={
            200: ApiAgentOutput,
            **COMMON_ERRORS,
            403: _SUPERVISORS_ONLY,
            404: error("`agent_not_found`: no active agent with this id."),
        },
    )
    def get(self, request: Request, agent_id: int) -> Response:
        agent = api_selectors.agent_for_api(agent_id=agent_id)
        return Response(ApiAgentOutput(agent_data(agent)).data)
