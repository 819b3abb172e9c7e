from django.urls import path

from transcripts import views

app_name = "transcripts"

urlpatterns = [
    path(
        "console/chats/<int:chat_id>/transcript.html",
        views.transcript_download,
        {"ext": "html"},
        name="download-html",
    ),
    path(
        "console/chats/<int:chat_id>/transcript.txt",
        views.transcript_download,
        {"ext": "txt"},
        name="download-text",
    ),
]
