from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("chat/", views.customer_chat, name="customer"),
    path("widget-demo/", views.widget_demo, name="widget-demo"),
    path("console/", views.console, name="console"),
    path("console/chats/<int:chat_id>/", views.console_transcript, name="console-transcript"),
]
