from channels.auth import AuthMiddlewareStack
from django.urls import path

from helpdesk.websocket import OriginValidator
from routing.live_consumer import SuperviseConsumer

websocket_urlpatterns = [
    # Cookie-authenticated like the console: only pages of our own hosts may open it.
    path(
        "ws/supervise/",
        OriginValidator(
            AuthMiddlewareStack(SuperviseConsumer.as_asgi()),
            require_origin=True,
            allow_widget_origins=False,
        ),
    ),
]
