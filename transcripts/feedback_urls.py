from django.urls import path

from transcripts import feedback_views

app_name = "feedback"

urlpatterns = [
    # The token is a TimestampSigner value ("<chat>.<key>:<time>:<signature>"), any path segment.
    path("<str:token>/", feedback_views.rate, name="rate"),
]
