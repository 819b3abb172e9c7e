"""Supervisors read the customers' ratings in the admin: read-only (a rating is the customer's
word; nobody edits it), filterable by score, topic and agent."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from helpdesk.admin_roles import SupervisorsReadOnlyAdmin
from helpdesk.admin_tools import csv_response
from transcripts.models import Rating


@admin.register(Rating)
class RatingAdmin(SupervisorsReadOnlyAdmin):
    list_display = ["score", "chat", "agent", "topic", "comment_short", "created_at"]
    list_filter = [
        "score",
        ("chat__topic", admin.RelatedOnlyFieldListFilter),
        ("chat__agent", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["comment", "chat__customer__name", "chat__customer__email"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["chat__topic", "chat__agent"]
    readonly_fields = ["chat", "score", "comment", "created_at", "updated_at"]
    actions = ["export_csv"]

    @admin.action(description="Export CSV", permissions=["supervise"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Rating]) -> StreamingHttpResponse:
        columns = ["chat_id", "created_at", "score", "chat__topic__name", "chat__agent__username"]
        return csv_response(
            filename="ratings.csv",
            header=["chat", "created", "score", "topic", "agent", "comment"],
            rows=queryset.values_list(*columns, "comment").iterator(chunk_size=2000),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rating]:
        return super().get_queryset(request).select_related("chat__topic", "chat__agent")

    @admin.display(description="agent", ordering="chat__agent__first_name")
    def agent(self, rating: Rating) -> str:
        agent = rating.chat.agent
        return (agent.get_full_name() or agent.get_username()) if agent else "—"

    @admin.display(description="topic", ordering="chat__topic__name")
    def topic(self, rating: Rating) -> str:
        return rating.chat.topic.name

    @admin.display(description="comment")
    def comment_short(self, rating: Rating) -> str:
        # The admin escapes it: a comment is text, never HTML.
        return rating.comment if len(rating.comment) <= 80 else rating.comment[:79] + "…"
