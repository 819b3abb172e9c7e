"""The two baselines the bench measures our figures against, served by daphne.

    REDIS_URL=redis://127.0.0.1:6379/5 daphne bench.baselines:relay   # stock Channels relay
    daphne bench.baselines:echo                                        # bare ASGI echo

`relay`: what a textbook Channels chat does: an AsyncJsonWebsocketConsumer joins the group
`chat.<id>` and relays every `message` frame with group_send on
channels_redis.core.RedisChannelLayer with its DEFAULT settings (capacity 100, a pool of 100
connections, no database), but one: `socket_timeout` 10 s. With redis-py 8 the default 5 s
read timeout fires during the layer's own 5 s blocking pop and kills the consumer of a socket
that was quiet for 5 s (docs/performance.md): the baseline would measure that crash, not a
relay. It answers each message with an `ack` at once so that the load
generator's bookkeeping is the same as against the product; it stores nothing, so there is no
`seq` and nothing to resume: what the layer drops is lost.

`echo`: a bare ASGI websocket application, no Channels, no Redis: every text frame goes back
as it came. Its rate is the ceiling of daphne (and of the generator) on this machine.

Paths: `/ws/relay/<chat>/<role>/` and `/ws/echo/<chat>/<role>/`.
"""

import os
from typing import Any

from django.conf import settings

if not settings.configured:
    settings.configure(
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [
                        {
                            "address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
                            "socket_timeout": 10,
                        }
                    ],
                    "prefix": os.environ.get("HELPDESK_REDIS_PREFIX", "bench") + "-relay",
                },
            }
        },
    )

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path


class RelayConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.group = f"chat.{self.scope['url_route']['kwargs']['chat']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if content.get("type") != "message":
            return
        frame = {
            "type": "message",
            "body": content["body"],
            "client_msg_id": content["client_msg_id"],
        }
        await self.channel_layer.group_send(self.group, {"type": "relay", "frame": frame})
        await self.send_json({"type": "ack", "client_msg_id": content["client_msg_id"]})

    async def relay(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])


relay = URLRouter(
    [path("ws/relay/<int:chat>/<str:role>/", RelayConsumer.as_asgi())]  # type: ignore[arg-type]
)


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            pass
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": event.get("text")})
        elif event["type"] == "websocket.disconnect":
            return
