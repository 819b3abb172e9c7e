"""Mounted at /api/v1/console/ by helpdesk/urls.py."""

from django.urls import path, register_converter

from cannedresponses.api import views


class _IdConverter:
    # At most 18 digits: a longer number is no id of ours (and would overflow the database
    # driver), so it is an ordinary 404, not a 500.
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(_IdConverter, "canned_id")

urlpatterns = [
    path(
        "canned-responses/",
        views.CannedResponseListCreateApi.as_view(),
        name="console-canned-responses",
    ),
    path(
        "canned-responses/<canned_id:response_id>/",
        views.CannedResponseDetailApi.as_view(),
        name="console-canned-response",
    ),
    path(
        "canned-responses/<canned_id:response_id>/render/",
        views.CannedResponseRenderApi.as_view(),
        name="console-canned-response-render",
    ),
    path(
        "canned-responses/placeholders/",
        views.PlaceholderListApi.as_view(),
        name="console-canned-placeholders",
    ),
    path("phrases/", views.PhraseSuggestionApi.as_view(), name="console-phrases"),
    path("tone-rules/", views.ToneRuleListApi.as_view(), name="console-tone-rules"),
    path("tone-check/", views.ToneCheckApi.as_view(), name="console-tone-check"),
]
