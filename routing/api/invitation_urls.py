"""The widget's invitation endpoints, mounted at /api/v1/ by helpdesk/urls.py."""

from django.urls import path

from helpdesk.api import converters  # noqa: F401  (registers the `api_id` converter)
from routing.api.invitation_views import (
    InvitationAcceptedApi,
    InvitationCheckApi,
    InvitationDismissedApi,
    InvitationShownApi,
)

urlpatterns = [
    path(
        "public/invitations/check/",
        InvitationCheckApi.as_view(),
        name="public-invitation-check",
    ),
    path(
        "public/invitations/<api_id:rule_id>/shown/",
        InvitationShownApi.as_view(),
        name="public-invitation-shown",
    ),
    path(
        "public/invitations/<api_id:rule_id>/accepted/",
        InvitationAcceptedApi.as_view(),
        name="public-invitation-accepted",
    ),
    path(
        "public/invitations/<api_id:rule_id>/dismissed/",
        InvitationDismissedApi.as_view(),
        name="public-invitation-dismissed",
    ),
]
