"""The console's knowledge base API: search published articles to paste into a reply.

Agents only (the console's session; CSRF applies to unsafe methods, and this is GET only);
anyone else gets 403 JSON. The rules live in `helpdesk.selectors` and `helpdesk.articles`.
The core never imports chat: the console passes the chat's topic slug, not the chat.
"""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from helpdesk import selectors
from helpdesk.api.serializers import ApiErrorOutput, ArticleSearchOutput, ArticleSearchQuery
from helpdesk.articles import article_renderings
from helpdesk.roles import is_agent

TAG = "console: knowledge base"


class IsAgent(BasePermission):
    message = "Only agents may use the console."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_agent(request.user)


class _KbThrottle(ScopedRateThrottle):
    """Rates read at call time, like every setting (DRF copies them at import otherwise)."""

    @property
    def THROTTLE_RATES(self) -> dict[str, str | None]:  # type: ignore[override]
        return api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[no-any-return]


class ArticleSearchApi(APIView):
    permission_classes = [IsAuthenticated, IsAgent]
    # Called as the agent types (debounced by the console): bounded per agent.
    throttle_classes = [_KbThrottle]
    throttle_scope = "console_kb"

    @extend_schema(
        tags=[TAG],
        summary="Search the knowledge base",
        description="Published articles matching `q`, best first, at most 10: PostgreSQL "
        "full-text search (title, then tags, then body) or, on SQLite, every word in the "
        "title, tags or body. With `topic`, that topic's articles first.",
        parameters=[ArticleSearchQuery],
        responses={
            200: ArticleSearchOutput(many=True),
            400: OpenApiResponse(ApiErrorOutput, description="`invalid` (see `errors.q`)."),
            403: OpenApiResponse(
                ApiErrorOutput,
                description="`not_authenticated` or `permission_denied` (not an agent).",
            ),
            429: OpenApiResponse(ApiErrorOutput, description="`throttled`."),
        },
    )
    def get(self, request: Request) -> Response:
        query = ArticleSearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        articles = selectors.article_search(
            query=query.validated_data["q"], topic_slug=query.validated_data.get("topic")
        )
        renderings = article_renderings(articles)
        rows: list[dict[str, Any]] = [
            {
                "id": article.pk,
                "title": article.title,
                "url": request.build_absolute_uri(
                    reverse("help:article", kwargs={"slug": article.slug})
                ),
                "excerpt": renderings[article.pk]["excerpt"],
                "topic": (
                    {"slug": article.topic.slug, "name": article.topic.name}
                    if article.topic
                    else None
                ),
            }
            for article in articles
        ]
        return Response(ArticleSearchOutput(rows, many=True).data)
