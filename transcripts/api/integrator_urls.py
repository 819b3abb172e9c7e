"""The integrators' API for ratings, transcripts and customers, mounted at /api/v1/ by
helpdesk/urls.py."""

from django.urls import path

from helpdesk.api import converters  # noqa: F401  (registers <api_id:…>)
from transcripts.api import integrator_views as views

urlpatterns = [
    path("ratings/", views.RatingListApi.as_view(), name="api-ratings"),
    path(
        "chats/<api_id:chat_id>/transcript/",
        views.TranscriptApi.as_view(),
        name="api-chat-transcript",
    ),
    path(
        "chats/<api_id:chat_id>/transcript.html",
        views.TranscriptHtmlApi.as_view(),
        name="api-chat-transcript-html",
    ),
    path(
        "chats/<api_id:chat_id>/transcript.txt",
        views.TranscriptTextApi.as_view(),
        name="api-chat-transcript-text",
    ),
    path("customers/", views.CustomerListApi.as_view(), name="api-customers"),
    path("customers/<api_id:customer_id>/", views.CustomerDetailApi.as_view(), name="api-customer"),
]
