"""The integrators' API of the helpdesk core, mounted at /api/v1/ by helpdesk/urls.py."""

from django.urls import path

from helpdesk.api import converters  # noqa: F401  (registers <api_id:…>)
from helpdesk.api import integrator_views as views

urlpatterns = [
    path("topics/", views.TopicListApi.as_view(), name="api-topics"),
    path("topics/<api_id:topic_id>/", views.TopicDetailApi.as_view(), name="api-topic"),
    path("tickets/", views.TicketListApi.as_view(), name="api-tickets"),
    path("tickets/<api_id:ticket_id>/", views.TicketDetailApi.as_view(), name="api-ticket"),
    path(
        "tickets/<api_id:ticket_id>/replies/",
        views.TicketReplyApi.as_view(),
        name="api-ticket-replies",
    ),
    path("articles/", views.ArticleListApi.as_view(), name="api-articles"),
    path("articles/<api_id:article_id>/", views.ArticleDetailApi.as_view(), name="api-article"),
]
