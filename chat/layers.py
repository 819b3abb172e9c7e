"""The Redis pub/sub channel layer, told when its subscriptions come back.

`channels_redis.pubsub.RedisPubSubChannelLayer` re-subscribes by itself after Redis comes back
(redis-py replays the subscriptions when the connection reconnects), but whatever was published
while it was away, or before the subscriptions were replayed, is gone without a trace: a socket
would wait for ever for a frame that will never come. Its `on_reconnect` option is accepted but
never called (channels-redis 4.3). This layer does call back: after each reconnection of a
subscriber connection it delivers `RECONNECTED_EVENT` to every channel of the process, and the
consumers make their clients catch up (chat.consumers, routing.live_consumer). The database is
the truth; the layer only a doorbell.
"""

import asyncio
import logging
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)

logger = logging.getLogger(__name__)

# The channel-layer event every consumer receives after a reconnection (`layer.reconnected` ->
# `layer_reconnected`).
RECONNECTED_EVENT = "layer.reconnected"


class _Shard(RedisSingleShardConnection):
    def _ensure_redis(self) -> None:
        fresh = self._redis is None
        super()._ensure_redis()
        if fresh:
            # redis-py registers `pubsub.on_connect` (weakly: it must be a bound method) as the
            # connection's connect callback, run on every reconnection, not the first
            # connection; it replays the subscriptions. Ours runs it, then rings.
            self._resubscribe = self._pubsub.on_connect
            self._pubsub.on_connect = self._on_reconnect

    async def _on_reconnect(self, connection: Any) -> None:
        await self._resubscribe(connection)
        self.channel_layer.reconnected()


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]

    def reconnected(self) -> None:
        logger.warning(
            "channel layer reconnected to Redis: telling %d channels to catch up",
            len(self.channels),
        )
        message = self.channel_layer.serialize({"type": RECONNECTED_EVENT})
        for queue in self.channels.values():
            queue.put_nowait(message)


class ResumingRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer whose consumers hear `layer.reconnected` after an outage."""

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
