"""The integrators' API for the helpdesk core (docs/api.md): topics, tickets and knowledge base
articles, under /api/v1/.

Token or session, agents and supervisors (helpdesk.api.access). Tickets are team-wide, as in
the console; articles: agents read published ones, supervisors also drafts and write. Writes
go through the console's services (`ticket_create`, `ticket_reply`, `article_create`), so the
customer is emailed exactly as when an agent answers from the console.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk import selectors, services
from helpdesk.api.access import IntegratorApi, request_is_supervisor
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
from helpdesk.api.integrator_serializers import (
    ApiArticleCreateInput,
    ApiArticleDetailOutput,
    ApiArticleOutput,
    ApiTicketCreateInput,
    ApiTicketDetailOutput,
    ApiTicketOutput,
    ApiTicketReplyInput,
    ApiTicketReplyOutput,
    ApiTopicOutput,
    ArticleListQuery,
    TicketListQuery,
    TopicListQuery,
)
from helpdesk.articles import article_renderings
from helpdesk.errors import NotFound
from helpdesk.hours import schedule_of
from helpdesk.models import MIDNIGHT, Article, Ticket, TicketReply, Topic

TOPICS_TAG = "integrations: topics"
TICKETS_TAG = "integrations: tickets"
ARTICLES_TAG = "integrations: knowledge base"


# --- Topics ---------------------------------------------------------------------------------------


def _clock(value: Any, *, closing: bool = False) -> str:
    return "24:00" if closing and value == MIDNIGHT else f"{value:%H:%M}"


def _topic_row(topic: Topic, now: datetime) -> dict[str, Any]:
    schedule = schedule_of(topic)  # the packed hours of topics_for_api: no query
    return {
        "id": topic.pk,
        "slug": topic.slug,
        "name": topic.name,
        "is_active": topic.is_active,
        "position": topic.position,
        "amber_after_seconds": topic.amber_after_seconds,
        "red_after_seconds": topic.red_after_seconds,
        "reply_timeout_seconds": topic.reply_timeout_seconds,
        "offer_message_after_seconds": topic.offer_message_after_seconds,
        "timezone": topic.timezone,
        "always_open": schedule.always_open,
        "business_hours": [
            {
                "weekday": interval.weekday,
                "opens": _clock(interval.opens),
                "closes": _clock(interval.closes, closing=True),
            }
            for interval in sorted(schedule.intervals, key=lambda i: (i.weekday, i.opens))
        ],
        "open_now": schedule.is_open(now),
        "opens_at": schedule.next_opening(now),
    }


def _topics(topics: Iterable[Topic]) -> Any:
    now = timezone.now()
    return ApiTopicOutput([_topic_row(topic, now) for topic in topics], many=True).data


class TopicListApi(IntegratorListApi):
    @extend_schema(
        tags=[TOPICS_TAG],
        summary="List topics",
        description="Every topic (newest first), with its thresholds, business hours and "
        "whether it is open now. `active=true` lists only those customers can pick.",
        parameters=[TopicListQuery],
        responses={200: ApiTopicOutput(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = query_of(TopicListQuery, request)
        return cursor_page(self, request, selectors.topics_for_api(active=query["active"]), _topics)


class TopicDetailApi(IntegratorApi):
    @extend_schema(
        tags=[TOPICS_TAG],
        summary="One topic",
        responses={
            200: ApiTopicOutput,
            **COMMON_ERRORS,
            404: error("`not_found`: no topic with this id."),
        },
    )
    def get(self, request: Request, topic_id: int) -> Response:
        topic = selectors.topic_get_for_api(topic_id=topic_id)
        if topic is None:
            raise NotFound("No such topic.")
        return Response(_topics([topic])[0])


# --- Tickets --------------------------------------------------------------------------------------


def _reply_row(reply: TicketReply) -> dict[str, Any]:
    return {
        "id": reply.pk,
        "author": user_ref(reply.author),
        "body": reply.body,
        "created_at": reply.created_at,
        "sent_at": reply.sent_at,
    }


def _ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "reference": ticket.reference,
        "status": ticket.status,
        "topic": topic_ref(ticket.topic),
        "customer": customer_ref(ticket.customer),
        "email": ticket.email,
        "body": ticket.body,
        "chat": ticket.chat_id,
        "created_at": ticket.created_at,
        "answered_at": ticket.answered_at,
        "closed_at": ticket.closed_at,
    }


def _ticket_detail(ticket_id: int) -> dict[str, Any]:
    ticket = selectors.ticket_get(ticket_id=ticket_id)
    if ticket is None:
        raise NotFound("No such ticket.")
    row = {**_ticket_row(ticket), "replies": [_reply_row(r) for r in ticket.replies.all()]}
    return ApiTicketDetailOutput(row).data  # type: ignore[return-value]


_TICKET_NOT_FOUND = error("`not_found`: no ticket with this id.")


class TicketListApi(IntegratorListApi):
    @extend_schema(
        tags=[TICKETS_TAG],
        summary="List tickets",
        description="Messages customers left (answered by email), newest first, narrowed by "
        "every filter given. Tickets are team-wide: every agent may read and answer them, as "
        "in the console.",
        parameters=[TicketListQuery],
        responses={200: ApiTicketOutput(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = query_of(TicketListQuery, request)
        tickets = selectors.tickets_for_api(
            status=query.get("status"),
            email=query.get("email"),
            reference=query.get("reference"),
            topic_id=query.get("topic"),
            created_after=query.get("created_after"),
            created_before=query.get("created_before"),
        )
        return cursor_page(self, request, tickets, rows_as(ApiTicketOutput, _ticket_row))

    @extend_schema(
        tags=[TICKETS_TAG],
        summary="Leave a message on behalf of a customer",
        description="Creates a ticket as if the customer had left it: they are emailed its "
        "reference. With `customer`, for that customer; otherwise a customer named `name` is "
        "created (refused with 403 `blocked` if their email is blocked).",
        request=ApiTicketCreateInput,
        responses={
            201: ApiTicketDetailOutput,
            400: error(
                "`invalid` (see `errors`), `body_empty`, `body_too_long`, `body_invalid` or "
                "`email_invalid`."
            ),
            401: COMMON_ERRORS[401],
            403: error("`permission_denied`, `read_only_token` or `blocked`."),
            429: COMMON_ERRORS[429],
        },
    )
    def post(self, request: Request) -> Response:
        data = ApiTicketCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        topic = selectors.topic_get_for_api(topic_id=values["topic"])
        if topic is None:
            raise serializers.ValidationError({"topic": ["No such topic."]})
        customer = None
        if values["customer"] is not None:
            customer = selectors.customer_get(customer_id=values["customer"])
            if customer is None:
                raise serializers.ValidationError({"customer": ["No such customer."]})
        ticket = services.ticket_create(
            topic=topic,
            body=values["body"],
            email=values["email"],
            name=values["name"],
            customer=customer,
        )
        return Response(_ticket_detail(ticket.pk), status=status.HTTP_201_CREATED)


class TicketDetailApi(IntegratorApi):
    @extend_schema(
        tags=[TICKETS_TAG],
        summary="One ticket with its replies",
        responses={200: ApiTicketDetailOutput, **COMMON_ERRORS, 404: _TICKET_NOT_FOUND},
    )
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(_ticket_detail(ticket_id))


class TicketReplyApi(IntegratorApi):
    @extend_schema(
        tags=[TICKETS_TAG],
        summary="Answer a ticket",
        description="The reply is emailed to the customer (the console's task, sent once) and "
        "the ticket becomes `answered`. Only agents answer tickets.",
        request=ApiTicketReplyInput,
        responses={
            201: ApiTicketReplyOutput,
            400: error(
                "`invalid` (see `errors`), `body_empty`, `body_too_long` or `body_invalid`."
            ),
            401: COMMON_ERRORS[401],
            403: error(
                "`permission_denied`, `read_only_token` or `forbidden` (a supervisor who is not "
                "an agent)."
            ),
            404: _TICKET_NOT_FOUND,
            409: error("`ticket_closed`."),
            429: COMMON_ERRORS[429],
        },
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        data = ApiTicketReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.ticket_reply(
            ticket_id=ticket_id, author=request.user, body=data.validated_data["body"]
        )
        return Response(
            ApiTicketReplyOutput(_reply_row(reply)).data, status=status.HTTP_201_CREATED
        )


# --- Knowledge base articles ----------------------------------------------------------------------


class SupervisorsWrite(BasePermission):
    """Everyone of the API reads; only supervisors write (articles are the team's)."""

    message = "Only supervisors may write articles."
    code = "permission_denied"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or request_is_supervisor(request)


def _article_rows(request: Request, articles: list[Article], *, detail: bool) -> list[Any]:
    renderings = article_renderings(articles)  # one cache round trip, no query
    rows = []
    for article in articles:
        row: dict[str, Any] = {
            "id": article.pk,
            "title": article.title,
            "slug": article.slug,
            "topic": topic_ref(article.topic) if article.topic else None,
            "tags": [tag for tag in (t.strip() for t in article.tags.split(",")) if tag],
            "is_published": article.is_published,
            "url": request.build_absolute_uri(
                reverse("help:article", kwargs={"slug": article.slug})
            ),
            "excerpt": renderings[article.pk]["excerpt"],
            "created_at": article.created_at,
            "updated_at": article.updated_at,
        }
        if detail:
            row["body"] = article.body
            row["html"] = renderings[article.pk]["html"]
        rows.append(row)
    output = ApiArticleDetailOutput if detail else ApiArticleOutput
    return output(rows, many=True).data  # type: ignore[return-value]


_ARTICLE_NOT_FOUND = error("`not_found`: no article with this id (that you may read).")


class ArticleListApi(IntegratorListApi):
    permission_classes = [*IntegratorListApi.permission_classes, SupervisorsWrite]

    @extend_schema(
        tags=[ARTICLES_TAG],
        summary="List knowledge base articles",
        description="Newest first. Agents see published articles; supervisors also drafts "
        "(`published=false` lists only those).",
        parameters=[ArticleListQuery],
        responses={200: ApiArticleOutput(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = query_of(ArticleListQuery, request)
        articles = selectors.articles_for_api(
            include_unpublished=request_is_supervisor(request),
            published=query["published"],
            topic_id=query.get("topic"),
        )
        return cursor_page(
            self, request, articles, lambda rows: _article_rows(request, rows, detail=False)
        )

    @extend_schema(
        tags=[ARTICLES_TAG],
        summary="Write an article (supervisors)",
        description="Markdown; the HTML served is rendered and sanitised (docs/knowledge-base.md).",
        request=ApiArticleCreateInput,
        responses={
            201: ApiArticleDetailOutput,
            400: error("`invalid` or `article_invalid` (see `errors`, e.g. a slug taken)."),
            401: COMMON_ERRORS[401],
            403: error("`permission_denied` (not a supervisor) or `read_only_token`."),
            429: COMMON_ERRORS[429],
        },
    )
    def post(self, request: Request) -> Response:
        data = ApiArticleCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        topic = None
        if values["topic"] is not None:
            topic = selectors.topic_get_for_api(topic_id=values["topic"])
            if topic is None:
                raise serializers.ValidationError({"topic": ["No such topic."]})
        article = services.article_create(
            title=values["title"],
            slug=values["slug"],
            body=values["body"],
            topic=topic,
            tags=values["tags"],
            is_published=values["is_published"],
        )
        return Response(
            _article_rows(request, [article], detail=True)[0], status=status.HTTP_201_CREATED
        )


class ArticleDetailApi(IntegratorApi):
    @extend_schema(
        tags=[ARTICLES_TAG],
        summary="One article, with its markdown and sanitised HTML",
        responses={200: ApiArticleDetailOutput, **COMMON_ERRORS, 404: _ARTICLE_NOT_FOUND},
    )
    def get(self, request: Request, article_id: int) -> Response:
        article = selectors.article_get_for_api(
            article_id=article_id, include_unpublished=request_is_supervisor(request)
        )
        if article is None:
            raise NotFound("No such article.")
        return Response(_article_rows(request, [article], detail=True)[0])
