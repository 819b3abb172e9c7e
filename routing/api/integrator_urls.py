"""Routing's integrator endpoints, under /api/v1/ (docs/api.md)."""

from django.urls import path

from helpdesk.api import converters  # noqa: F401  (registers the `api_id` converter)
from routing.api.integrator_views import AgentDetailApi, AgentListApi, ChatTransferApi

urlpatterns = [
    path("chats/<api_id:chat_id>/transfer/", ChatTransferApi.as_view(), name="api-chat-transfer"),
    path("agents/", AgentListApi.as_view(), name="api-agents"),
    path("agents/<api_id:agent_id>/", AgentDetailApi.as_view(), name="api-agent"),
]
