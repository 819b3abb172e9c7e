"""Mounted at /api/v1/console/kb/ by helpdesk/urls.py."""

from django.urls import path

from helpdesk.api import views

urlpatterns = [
    path("articles/", views.ArticleSearchApi.as_view(), name="console-kb-articles"),
]
