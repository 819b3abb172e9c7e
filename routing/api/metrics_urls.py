"""The integrators' metrics endpoint, mounted at /api/v1/ by helpdesk/urls.py."""

from django.urls import path

from routing.api.metrics_views import MetricsApi

urlpatterns = [
    path("metrics/", MetricsApi.as_view(), name="api-metrics"),
]
