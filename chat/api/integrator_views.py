"""The integrators' chat API (/api/v1/chats/, docs/api.md): thin views over chat's services and
selectors, behind the API's one access layer (helpdesk.api.access).

Every write goes through the service the console uses, so the customer's widget and every
console see it live, and the same rules answer with the same codes. A chat the token's user
may not read is `404 chat_not_found`, exactly like a chat that does not exist: an agent's token
never learns that a colleague's chat exists (as the console's reads answer; its writes would
name the colleague, so the API checks readability before every write).
"""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from chat import api_selectors, blocking, scopes, services
from chat.api.integrator_serializers import (
    ApiChatCreatedOutput,
    ApiChatCreateInput,
    ApiChatOutput,
    ApiMessageOutput,
    ApiMessagePageOutput,
    ApiMessagePostInput,
    ChatListQuery,
    MessageListQuery,
    chat_data,
    message_data,
)
from chat.api.serializers import TopicClosedOutput
from chat.api.views import customer_ws_url
from chat.selectors import ConsoleAccess
from chat.tokens import customer_token_make
from helpdesk.api.access import IntegratorApi, request_is_supervisor
from helpdesk.api.integrator_common import (
    COMMON_ERRORS,
    INVALID,
    LIST_ERRORS,
    IntegratorListApi,
    cursor_page,
    error,
    query_of,
    rows_as,
)
from helpdesk.selectors import topic_get_active

TAG = "integrations: chats"

CHAT_NOT_FOUND = error("`chat_not_found`: no such chat, or not one you may read.")
# A write may also be refused because the chat is someone else's.
WRITE_FORBIDDEN = error(
    "`permission_denied` (not staff), `read_only_token` (a read token), or `forbidden`: the "
    "chat is another agent's (or queued) and you are no supervisor."
)
CONFLICT = error(
    "`chat_closed`; for messages also `client_msg_id_conflict` (the id was used for another body)."
)
BODY_ERRORS = error(
    "`invalid` (see `errors`), or the message rules: `body_empty`, `body_too_long`, `body_invalid`."
)


def request_access(request: Request) -> ConsoleAccess:
    """What the token's user may read, from the role the access layer looked up already (one
    query fewer than chat.selectors.staff_access)."""
    supervisor = request_is_supervisor(request)
    return ConsoleAccess(
        queue_topics=None if supervisor else scopes.queue_topics(request.user),
        is_supervisor=supervisor,
    )


class ChatListCreateApi(IntegratorListApi):
    @extend_schema(
        tags=[TAG],
        summary="List chats",
        description="Newest first, paginated by an opaque cursor (`next`/`previous` links; "
        "`limit` default 50, at most 200). An agent's token lists the chats that agent may read "
        "(theirs, the queue of their topics, chats they held before); a supervisor's, all. "
        "Bad filters: 400 `invalid` with `errors` per field.",
        parameters=[ChatListQuery],
        responses={200: ApiChatOutput(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = query_of(ChatListQuery, request)
        chats = api_selectors.chats_for_api(
            user=request.user,
            access=request_access(request),
            status=query.get("status"),
            topic_slug=query.get("topic"),
            agent_id=query.get("agent"),
            customer_email=query.get("customer_email"),
            created_after=query.get("created_after"),
            created_before=query.get("created_before"),
        )
        return cursor_page(self, request, chats, rows_as(ApiChatOutput, chat_data))

    @extend_schema(
        tags=[TAG],
        summary="Start a chat on behalf of a customer",
        description="Queued like a chat started from the widget (routing may assign it at "
        "once). The answer's `customer_access` (token, websocket URL, link to the customer "
        "page) hands the conversation to the customer: it is returned only here. A blocked "
        "customer (by email): 403 `blocked`; a topic outside its business hours: 409 "
        "`topic_closed` with `opens_at`; nothing is created then.",
        request=ApiChatCreateInput,
        responses={
            201: ApiChatCreatedOutput,
            400: BODY_ERRORS,
            **COMMON_ERRORS,
            403: error("`permission_denied`, `read_only_token`, or `blocked`: the customer is."),
            409: OpenApiResponse(
                TopicClosedOutput, description="`topic_closed`, with `opens_at` (or null)."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = ApiChatCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        topic = topic_get_active(slug=fields["topic"])
        if topic is None:
            raise serializers.ValidationError({"topic": ["No such topic."]})
        # The visitor's path, for its checks (blocks, business hours), but without an address
        # or a browser key: the caller is the integrator's server, not the customer, and
        # recording its address would let one block stop every chat it starts.
        chat = blocking.chat_start_for_visitor(
            topic=topic,
            name=fields["name"],
            email=fields["email"],
            first_message=fields["message"],
            consent_transcript=fields["consent_transcript"],
            consent_marketing=fields["consent_marketing"],
            timezone=fields["timezone"],
        )
        token = customer_token_make(chat_id=chat.pk, customer_key=chat.customer_key)
        # Read again: routing may have assigned the chat when it committed.
        body: dict[str, Any] = chat_data(api_selectors.chat_get(chat_id=chat.pk))
        body["customer_access"] = {
            "token": token,
            "ws_url": customer_ws_url(request, token),
            "url": request.build_absolute_uri(reverse("chat:customer")) + f"#token={token}",
        }
        return Response(ApiChatCreatedOutput(body).data, status=status.HTTP_201_CREATED)


class ChatDetailApi(IntegratorApi):
    @extend_schema(
        tags=[TAG],
        summary="Read a chat",
        responses={200: ApiChatOutput, **COMMON_ERRORS, 404: CHAT_NOT_FOUND},
    )
    def get(self, request: Request, chat_id: int) -> Response:
        chat = api_selectors.chat_for_api(
            chat_id=chat_id, user=request.user, access=request_access(request)
        )
        return Response(ApiChatOutput(chat_data(chat)).data)


class ChatMessagesApi(IntegratorApi):
    @extend_schema(
        tags=[TAG],
        summary="Read a chat's messages",
        description="Oldest first, from `after_seq` (exclusive). Sequence numbers have no "
        "gaps, so keep the highest you have and ask again with it: `next` is that link while "
        "more messages are already there, null once you are up to date.",
        parameters=[MessageListQuery],
        responses={
            200: ApiMessagePageOutput,
            400: INVALID,
            **COMMON_ERRORS,
            404: CHAT_NOT_FOUND,
        },
    )
    def get(self, request: Request, chat_id: int) -> Response:
        query = query_of(MessageListQuery, request)
        limit = query["limit"]
        page = api_selectors.messages_for_api(
            chat_id=chat_id,
            user=request.user,
            after_seq=query["after_seq"],
            limit=limit,
            access=request_access(request),
        )
        next_link = None
        if page.more:
            url = request.build_absolute_uri()
            url = replace_query_param(url, "after_seq", page.messages[-1].seq)
            next_link = replace_query_param(url, "limit", limit)
        customer_name = page.chat.customer.name
        body = {
            "results": [message_data(m, customer_name=customer_name) for m in page.messages],
            "next": next_link,
            "last_seq": page.chat.last_seq,
        }
        return Response(ApiMessagePageOutput(body).data)

    @extend_schema(
        tags=[TAG],
        summary="Post a message as the token's user",
        description="The console's rules: the chat's agent or a supervisor writes; a closed "
        "chat is 409 `chat_closed`; the body rules answer `body_empty`, `body_too_long`, "
        "`body_invalid`. With `client_msg_id`, a resend returns the stored message (200) "
        "instead of storing it twice (201); the same id with another body is 409 "
        "`client_msg_id_conflict`. The customer's widget and the consoles get it live.",
        request=ApiMessagePostInput,
        responses={
            201: ApiMessageOutput,
            200: OpenApiResponse(ApiMessageOutput, description="A resend: the stored message."),
            400: BODY_ERRORS,
            **COMMON_ERRORS,
            403: WRITE_FORBIDDEN,
            404: CHAT_NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, chat_id: int) -> Response:
        data = ApiMessagePostInput(data=request.data)
        data.is_valid(raise_exception=True)
        # Readable first: an unreadable chat is not found, never "forbidden, it is Bruno's".
        chat = api_selectors.chat_for_api(
            chat_id=chat_id, user=request.user, access=request_access(request)
        )
        result = services.message_post(
            chat_id=chat.pk,
            sender=services.Participant.agent(request.user),
            body=data.validated_data["body"],
            client_msg_id=data.validated_data["client_msg_id"],
        )
        return Response(
            ApiMessageOutput(message_data(result.message, customer_name=chat.customer.name)).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class ChatCloseApi(IntegratorApi):
    @extend_schema(
        tags=[TAG],
        summary="Close a chat",
        description="As the console's close: the chat's agent or a supervisor; the customer "
        "is told. Closing a closed chat is 409 `chat_closed`.",
        request=None,
        responses={
            200: ApiChatOutput,
            **COMMON_ERRORS,
            403: WRITE_FORBIDDEN,
            404: CHAT_NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, chat_id: int) -> Response:
        chat = api_selectors.chat_for_api(
            chat_id=chat_id, user=request.user, access=request_access(request)
        )
        closed = services.chat_close(chat_id=chat.pk, by=services.Participant.agent(request.user))
        return Response(ApiChatOutput(chat_data(closed)).data)
