from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from routing.live_views import live_page
from routing.metrics_views import metrics_page

urlpatterns = [
    # Before the admin's catch-all: the admin would answer /admin/metrics/ with a 404.
    path("admin/metrics/", metrics_page, name="admin-metrics"),
    path("admin/live/", live_page, name="admin-live"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("chat.api.urls")),
    path("api/v1/", include("routing.api.invitation_urls")),
    path("api/v1/console/", include("cannedresponses.api.urls")),
    path("api/v1/console/kb/", include("helpdesk.api.urls")),
    path("api/v1/", include("helpdesk.api.integrator_urls")),
    path("api/v1/", include("cannedresponses.api.integrator_urls")),
    path("api/v1/", include("transcripts.api.integrator_urls")),
    path("api/v1/", include("routing.api.metrics_urls")),
    path("api/v1/", include("chat.api.integrator_urls")),
    path("api/v1/", include("routing.api.integrator_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("console/tickets/", include("helpdesk.console_urls")),
    path("help/", include("helpdesk.help_urls")),
    path("feedback/", include("transcripts.feedback_urls")),
    path("subscriptions/", include("transcripts.subscription_urls")),
    # Before chat's: the staff downloads live under chat's console/chats/<id>/ prefix.
    path("", include("transcripts.urls")),
    path("", include("chat.urls")),
]

handler400 = "helpdesk.views.bad_request"
handler404 = "helpdesk.views.not_found"
handler500 = "helpdesk.views.server_error"
