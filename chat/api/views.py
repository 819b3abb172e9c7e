"""The public chat API: what the widget (or any outside client) uses to open a chat."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from chat import blocking
from chat.api.serializers import (
    ErrorOutput,
    PublicChatStartInput,
    PublicChatStartOutput,
    PublicTicketCreateInput,
    PublicTicketCreateOutput,
    TopicClosedOutput,
    TopicOutput,
)
from chat.tokens import customer_token_make
from helpdesk import services as helpdesk_services
from helpdesk.selectors import topic_get_active, topic_list_active_with_availability


def client_address(request: Request) -> str:
    """The client's address exactly as the throttling sees it (DRF's get_ident with
    NUM_PROXIES): a forged X-Forwarded-For can neither slip past an address block nor get
    someone else's address blocked. "" when the server saw no address (then no address
    block applies, rather than one shared by every such client)."""
    ident = BaseThrottle().get_ident(request)
    return ident if isinstance(ident, str) else ""


def customer_ws_url(request: Request, token: str) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}/ws/chat/{token}/"


class _ScopedRateThrottle(ScopedRateThrottle):
    """DRF copies the rates into the class when it is imported; read them at call time, like
    every other setting (a changed REST_FRAMEWORK setting would otherwise be ignored)."""

    @property
    def THROTTLE_RATES(self) -> dict[str, str | None]:  # type: ignore[override]
        return api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[no-any-return]


class _PublicApi(APIView):
    # Anonymous by design: no session, hence no CSRF exposure; the token is the credential.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [_ScopedRateThrottle]


def _no_such_topic() -> Response:
    return Response(
        {
            "code": "invalid",
            "detail": "The request has invalid fields.",
            "errors": {"topic": ["No such topic."]},
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class PublicChatStartApi(_PublicApi):
    throttle_scope = "public_chat_start"

    @extend_schema(
        request=PublicChatStartInput,
        responses={
            201: PublicChatStartOutput,
            400: ErrorOutput,
            403: ErrorOutput,
            409: TopicClosedOutput,
            429: ErrorOutput,
        },
        summary="Open a chat as a customer",
        description="Outside the topic's business hours: 409 `topic_closed` with `opens_at`; "
        "the customer may leave a message instead (POST /api/v1/public/tickets/). "
        "A blocked customer (email, browser_key or address): 403 `blocked`, nothing created. "
        "With `external_id` and a matching `external_id_hash` (widget identity verification) "
        "the chat joins that customer's record and agents see their history; a hash that "
        "does not match: 403 `identity_invalid`, nothing created.",
    )
    def post(self, request: Request) -> Response:
        data = PublicChatStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        topic = topic_get_active(slug=data.validated_data["topic"])
        if topic is None:
            return _no_such_topic()
        chat = blocking.chat_start_for_visitor(
            topic=topic,
            name=data.validated_data["name"],
            email=data.validated_data["email"],
            first_message=data.validated_data["message"],
            consent_transcript=data.validated_data["consent_transcript"],
            consent_marketing=data.validated_data["consent_marketing"],
            browser_key=data.validated_data["browser_key"],
            ip=client_address(request),
            timezone=data.validated_data["timezone"],
            external_id=data.validated_data["external_id"],
            external_id_hash=data.validated_data["external_id_hash"],
        )
        token = customer_token_make(chat_id=chat.pk, customer_key=chat.customer_key)
        output = PublicChatStartOutput(
            {
                "id": chat.pk,
                "token": token,
                "ws_url": customer_ws_url(request, token),
                "status": chat.status,
            }
        )
        return Response(output.data, status=status.HTTP_201_CREATED)


class PublicTopicListApi(_PublicApi):
    throttle_scope = "public_read"

    @extend_schema(responses={200: TopicOutput(many=True)}, summary="Topics a customer can pick")
    def get(self, request: Request) -> Response:
        return Response(TopicOutput(topic_list_active_with_availability(), many=True).data)


class PublicTicketCreateApi(_PublicApi):
    """Leave a message instead of chatting (outside business hours, or rather than wait)."""

    throttle_scope = "public_ticket_create"

    @extend_schema(
        request=PublicTicketCreateInput,
        responses={
            201: PublicTicketCreateOutput,
            400: ErrorOutput,
            403: ErrorOutput,
            429: ErrorOutput,
        },
        summary="Leave a message (a ticket answered by email)",
        description="A blocked customer (email, browser_key or address): 403 `blocked`, "
        "nothing created.",
    )
    def post(self, request: Request) -> Response:
        data = PublicTicketCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        topic = topic_get_active(slug=data.validated_data["topic"])
        if topic is None:
            return _no_such_topic()
        ticket = helpdesk_services.ticket_create(
            topic=topic,
            name=data.validated_data["name"],
            email=data.validated_data["email"],
            body=data.validated_data["body"],
            browser_key=data.validated_data["browser_key"],
            ip=client_address(request),
        )
        output = PublicTicketCreateOutput({"reference": ticket.reference})
        return Response(output.data, status=status.HTTP_201_CREATED)
