"""ASGI entry point: HTTP to Django, websockets to the apps' `ws_urls` (each checks origins)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from chat.consumers import NoRouteConsumer  # noqa: E402
from chat.ws_urls import websocket_urlpatterns as chat_ws_urls  # noqa: E402
from routing.ws_urls import websocket_urlpatterns as routing_ws_urls  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [*chat_ws_urls, *routing_ws_urls, re_path(r"", NoRouteConsumer.as_asgi())]  # type: ignore[arg-type]
        ),
    }
)

# A server holding thousands of sockets paused its event loop for 130-320 ms at every full
# collection (20 in a 1,000-chat benchmark run), which set its p99 latency. What exists now
# (Django, the apps, their modules) lives as long as the process: frozen, the collector skips
# it. Young collections run less often, so fewer short-lived objects are promoted and full
# collections become rare (1 in the same run). docs/performance.md.
gc.freeze()
gc.set_threshold(10_000, 20, 10)
