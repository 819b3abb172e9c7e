"""The integrators' API for what follows a chat (docs/api.md): ratings, transcripts, and the
customers with their history.

The customers live here, on floor 3, because their history shows each chat's rating, which
transcripts owns: chat (floor 2) gathers the customer's chats and tickets
(`chat.customer_selectors`), this floor adds the ratings to the same query.

Access is the console's: a token acts as its user, an agent reads the chats (hence ratings and
transcripts) they may read (`chat.selectors.readable_by`, and for transcripts
`chat_for_transcript`), a supervisor every one.
"""

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from chat.customer_selectors import customer_get_for_staff, customers_readable_by
from chat.models import Chat
from chat.selectors import chat_for_transcript, staff_access
from helpdesk.api.access import IntegratorApi
from helpdesk.api.integrator_common import (
    COMMON_ERRORS,
    LIST_ERRORS,
    IntegratorListApi,
    cursor_page,
    customer_ref,
    error,
    query_of,
    rows_as,
    topic_ref,
    user_ref,
)
from helpdesk.models import Ticket
from transcripts import emails, selectors
from transcripts.api.integrator_serializers import (
    ApiCustomerDetailOutput,
    ApiCustomerOutput,
    ApiRatingOutput,
    CustomerListQuery,
    RatingListQuery,
    TranscriptQuery,
)
from transcripts.models import Rating
from transcripts.views import CONTENT_TYPES, download_filename

RATINGS_TAG = "integrations: ratings"
TRANSCRIPTS_TAG = "integrations: transcripts"
CUSTOMERS_TAG = "integrations: customers"
# Per list in a customer's history: the newest chats and tickets.
HISTORY_LIMIT = 50


# --- Ratings --------------------------------------------------------------------------------------


def _rating_row(rating: Rating) -> dict[str, Any]:
    chat = rating.chat
    return {
        "id": rating.pk,
        "chat": chat.pk,
        "score": rating.score,
        "comment": rating.comment,
        "topic": topic_ref(chat.topic),
        "agent": user_ref(chat.agent),
        "customer": customer_ref(chat.customer),
        "created_at": rating.created_at,
        "updated_at": rating.updated_at,
    }


class RatingListApi(IntegratorListApi):
    @extend_schema(
        tags=[RATINGS_TAG],
        summary="List ratings",
        description="Customers' ratings of chats (1 to 5, with their comment), newest first. "
        "Agents see the ratings of the chats they may read; supervisors all.",
        parameters=[RatingListQuery],
        responses={200: ApiRatingOutput(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = query_of(RatingListQuery, request)
        ratings = selectors.ratings_for_api(
            user=request.user,
            access=staff_access(user=request.user),
            score=query.get("score"),
            min_score=query.get("min_score"),
            max_score=query.get("max_score"),
            agent_id=query.get("agent"),
            topic_id=query.get("topic"),
            created_after=query.get("created_after"),
            created_before=query.get("created_before"),
        )
        return cursor_page(self, request, ratings, rows_as(ApiRatingOutput, _rating_row))


# --- Transcripts ----------------------------------------------------------------------------------


class _JsonErrorsOnly(IntegratorApi):
    """Answers a file or a JSON error: content negotiation never fails (no 406, and `format`
    is this endpoint's own parameter, not DRF's renderer override)."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        return JSONRenderer(), "application/json"


_TRANSCRIPT_ERRORS = {
    **COMMON_ERRORS,
    404: error("`chat_not_found`: no such chat, or one you may not read."),
}


def _transcript(request: Request, chat_id: int, ext: str) -> HttpResponse:
    """The bodies of the customer's transcript email (transcripts.emails), for a chat the user
    may open in the console (chat_for_transcript), open or closed. Internal notes are never
    part of it; the HTML is the email's template, every message escaped."""
    chat, _, _ = chat_for_transcript(chat_id=chat_id, agent=request.user)
    text, html = emails.transcript_parts(selectors.transcript_for_customer(chat_id=chat.pk))
    response = HttpResponse(html if ext == "html" else text, content_type=CONTENT_TYPES[ext])
    started = timezone.localtime(chat.created_at).date().isoformat()
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=download_filename(chat_id=chat.pk, started=started, ext=ext)
    )
    add_never_cache_headers(response)  # personal data: no shared cache keeps a copy
    return response


_BOTH = {
    (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The HTML transcript."),
    (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The text transcript."),
}


class TranscriptApi(_JsonErrorsOnly):
    @extend_schema(
        tags=[TRANSCRIPTS_TAG],
        summary="A chat's transcript",
        description="What the customer's transcript email holds, as HTML or plain text "
        "(`format`), for a chat you may read, open or closed. Internal notes are never part "
        "of it. Same as …/transcript.html and …/transcript.txt.",
        parameters=[TranscriptQuery],
        responses={
            **_BOTH,
            400: error("`invalid`: `format` is html or txt."),
            **_TRANSCRIPT_ERRORS,
        },
    )
    def get(self, request: Request, chat_id: int) -> HttpResponse:
        query = query_of(TranscriptQuery, request)
        return _transcript(request, chat_id, query["format"])


class TranscriptHtmlApi(_JsonErrorsOnly):
    @extend_schema(
        tags=[TRANSCRIPTS_TAG],
        summary="A chat's transcript as HTML",
        responses={(200, "text/html"): _BOTH[(200, "text/html")], **_TRANSCRIPT_ERRORS},
    )
    def get(self, request: Request, chat_id: int) -> HttpResponse:
        return _transcript(request, chat_id, "html")


class TranscriptTextApi(_JsonErrorsOnly):
    @extend_schema(
        tags=[TRANSCRIPTS_TAG],
        summary="A chat's transcript as plain text",
        responses={(200, "text/plain"): _BOTH[(200, "text/plain")], **_TRANSCRIPT_ERRORS},
    )
    def get(self, request: Request, chat_id: int) -> HttpResponse:
        return _transcript(request, chat_id, "txt")


# --- Customers ------------------------------------------------------------------------------------


def _customer_row(customer: Any) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "name": customer.name,
        "email": customer.email,
        "external_id": customer.external_id,
        "consent_transcript": customer.consent_transcript,
        "consent_marketing": customer.consent_marketing,
        "timezone": customer.timezone,
        "created_at": customer.created_at,
    }


def _history_chat(chat: Chat) -> dict[str, Any]:
    rating = getattr(chat, "rating", None)  # selected with the chat: no query, None without
    return {
        "id": chat.pk,
        "topic": topic_ref(chat.topic),
        "status": chat.status,
        "agent": user_ref(chat.agent),
        "created_at": chat.created_at,
        "assigned_at": chat.assigned_at,
        "closed_at": chat.closed_at,
        "rating": (
            {"score": rating.score, "comment": rating.comment, "created_at": rating.created_at}
            if rating
            else None
        ),
    }


def _history_ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "reference": ticket.reference,
        "status": ticket.status,
        "topic": topic_ref(ticket.topic),
        "created_at": ticket.created_at,
        "answered_at": ticket.answered_at,
        "closed_at": ticket.closed_at,
    }


class CustomerListApi(IntegratorListApi):
    @extend_schema(
        tags=[CUSTOMERS_TAG],
        summary="List customers",
        description="Newest first. Supervisors see every customer; agents the customers of "
        "the chats they may read and those who left a ticket. A chat makes its own customer "
        "record unless the widget proved who the customer is: filter by `email` to find "
        "every record of one person.",
        parameters=[CustomerListQuery],
        responses={200: ApiCustomerOutput(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = query_of(CustomerListQuery, request)
        customers = customers_readable_by(
            user=request.user,
            access=staff_access(user=request.user),
            email=query.get("email"),
            external_id=query.get("external_id"),
        )
        return cursor_page(self, request, customers, rows_as(ApiCustomerOutput, _customer_row))


class CustomerDetailApi(IntegratorApi):
    @extend_schema(
        tags=[CUSTOMERS_TAG],
        summary="One customer with their history",
        description="The customer, their chats (with the rating, if any) and their tickets. "
        "The history gathers every record with the same email, like the console's summary; "
        "an agent sees only the chats they may read.",
        responses={
            200: ApiCustomerDetailOutput,
            **COMMON_ERRORS,
            404: error("`customer_not_found`: no such customer, or one you may not read."),
        },
    )
    def get(self, request: Request, customer_id: int) -> Response:
        access = staff_access(user=request.user)
        customer = customer_get_for_staff(customer_id=customer_id, user=request.user, access=access)
        history = selectors.customer_history(
            customer=customer, user=request.user, access=access, limit=HISTORY_LIMIT
        )
        row = {
            **_customer_row(customer),
            "chats": [_history_chat(chat) for chat in history.chats],
            "tickets": [_history_ticket(ticket) for ticket in history.tickets],
        }
        return Response(ApiCustomerDetailOutput(row).data)
