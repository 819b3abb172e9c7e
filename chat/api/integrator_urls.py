"""The integrators' chat endpoints, under /api/v1/ (docs/api.md)."""

from django.urls import path

from chat.api.integrator_views import (
    ChatCloseApi,
    ChatDetailApi,
    ChatListCreateApi,
    ChatMessagesApi,
)
from helpdesk.api import converters  # noqa: F401  (registers the `api_id` converter)

urlpatterns = [
    path("chats/", ChatListCreateApi.as_view(), name="api-chats"),
    path("chats/<api_id:chat_id>/", ChatDetailApi.as_view(), name="api-chat"),
    path("chats/<api_id:chat_id>/messages/", ChatMessagesApi.as_view(), name="api-chat-messages"),
    path("chats/<api_id:chat_id>/close/", ChatCloseApi.as_view(), name="api-chat-close"),
]
