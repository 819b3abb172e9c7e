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

    async def publish_many(self, publishes: list[tuple[str, bytes]]) -> None:
        """PUBLISH each (channel, payload) in order, in one round trip."""
        async with self._lock:
            self._ensure_redis()
            pipeline = self._redis.pipeline(transaction=False)
            for channel, payload in publishes:
                pipeline.publish(channel, payload)
            await pipeline.execute()


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]

    async def group_send_batch(self, sends: list[tuple[str, dict[str, Any]]]) -> None:
        by_shard: dict[_Shard, list[tuple[str, bytes]]] = {}
        serialized: dict[int, bytes] = {}
        for group, message in sends:
            # One event often goes to several groups: serialised once.
            payload = serialized.get(id(message))
            if payload is None:
                payload = serialized[id(message)] = self.channel_layer.serialize(message)
            group_channel = self._get_group_channel_name(group)
            by_shard.setdefault(self._get_shard(group_channel), []).append((group_channel, payload))
        for shard, publishes in by_shard.items():
            await shard.publish_many(publishes)

    def reconnected(self) -> None:
        logger.warning(
            "channel layer reconnected to Redis: telling %d channels to catch up",
            len(self.channels),
        )
        message = self.channel_layer.serialize({"type": RECONNECTED_EVENT})
        for queue in self.channels.values():
            queue.put_nowait(message)


class ResumingRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer whose consumers hear `layer.reconnected` after an outage, and
    which sends a batch of group messages in one round trip per shard (`group_send_batch`)."""

    async def group_send_batch(self, sends: list[tuple[str, dict[str, Any]]]) -> None:
        """`group_send` of each (group, message), in order. The stock layer publishes one
        message per round trip, each behind the shard's lock: under load, a server's frames
        queued there, one Redis round trip apart."""
        await self._get_layer().group_send_batch(sends)

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
