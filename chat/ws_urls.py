from channels.auth import AuthMiddlewareStack
from django.urls import path, re_path

from chat.consumers import ConsoleConsumer, CustomerChatConsumer
from helpdesk.websocket import OriginValidator

websocket_urlpatterns = [
    re_path(
        r"^ws/chat/(?P<token>[A-Za-z0-9_.:\-]{1,200})/$",
        OriginValidator(
            CustomerChatConsumer.as_asgi(), require_origin=False, allow_widget_origins=True
        ),
    ),
    path(
        "ws/console/",
        OriginValidator(
            AuthMiddlewareStack(ConsoleConsumer.as_asgi()),
            require_origin=True,
            allow_widget_origins=False,
        ),
    ),
]
