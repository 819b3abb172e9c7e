from django.urls import path

from transcripts import subscription_views

app_name = "subscriptions"

urlpatterns = [
    # Tokens are TimestampSigner values of URL-safe base64 and ':' (transcripts.offers).
    path("confirm/<str:token>/", subscription_views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", subscription_views.unsubscribe, name="unsubscribe"),
]
