"""The integrators' canned-response API, mounted at /api/v1/ by helpdesk/urls.py."""

from django.urls import path

from cannedresponses.api import integrator_views as views
from helpdesk.api import converters  # noqa: F401  (registers <api_id:…>)

urlpatterns = [
    path("canned-responses/", views.CannedResponseListApi.as_view(), name="api-canned-responses"),
    path(
        "canned-responses/<api_id:response_id>/",
        views.CannedResponseDetailApi.as_view(),
        name="api-canned-response",
    ),
]
