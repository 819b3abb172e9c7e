"""The Redis pub/sub channel layer, told when its subscriptions come back.

`channels_redis.pubsub.RedisPubSubChannelLayer` re-subscribes by itself after Redis comes back
(redis-py replays the subscriptions when the connection reconnects), but whatever was published
while it was away, or before the subscriptions were replayed, is gone without a trace: a socket
would wait for ever for a frame that will never come. Its `on_reconnect` option is accepted but
never called (channels-redis 4.3). This layer does call back: after each reconnection of a
subscriber connection it delivers `RECONNECTED_EVENT` to every channel of the process, and the
consumers make their clients catch up (chat.consumers, routing.live_consumer). The database is
the truth; the layer only a doorbell.

It also delivers in-process: a message for a group with members in this process goes onto
their queues at once, and is published for the other processes with this process's mark, so
that its own echo from Redis is dropped unread. A chat whose customer and agent are served by
one process thus costs no Redis round trip and no decoding on the way back.
"""

import asyncio
import logging
import os
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

# A published payload is `ORIGIN_MARK` + the sender's 16-byte origin + the serialised message.
# 0xc1 is the one byte msgpack never uses, so a payload from a process without the mark (an
# older release in a rolling deploy, or the stock layer) still decodes as before.
ORIGIN_MARK = b"\xc1"
ORIGIN_LENGTH = 16
_HEADER_LENGTH = len(ORIGIN_MARK) + ORIGIN_LENGTH


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

    def _receive_message(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        data = message["data"]
        if data[:1] == ORIGIN_MARK:
            if data[1:_HEADER_LENGTH] == self.channel_layer.origin:
                return  # already on its local queues (`_LoopLayer._deliver_locally`)
            message["data"] = data[_HEADER_LENGTH:]
        super()._receive_message(message)

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
        self.origin = os.urandom(ORIGIN_LENGTH)
        self._mark = ORIGIN_MARK + self.origin

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        queue = self.channels.get(channel)
        if queue is not None:
            # A channel of this process is subscribed to by this process alone.
            queue.put_nowait(self.channel_layer.serialize(message))
            return
        await self._get_shard(channel).publish_many(
            [(channel, self._mark + self.channel_layer.serialize(message))]
        )

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self.group_send_batch([(group, message)])

    async def group_send_batch(
        self, sends: list[tuple[str, dict[str, Any]]], *, local: bool = True
    ) -> None:
        by_shard: dict[_Shard, list[tuple[str, bytes]]] = {}
        serialized: dict[int, bytes] = {}
        for group, message in sends:
            # One event often goes to several groups: serialised once.
            payload = serialized.get(id(message))
            if payload is None:
                payload = serialized[id(message)] = self.channel_layer.serialize(message)
            group_channel = self._get_group_channel_name(group)
            if local:
                self._deliver_locally(group_channel, payload)
            by_shard.setdefault(self._get_shard(group_channel), []).append(
                (group_channel, self._mark + payload)
            )
        for shard, publishes in by_shard.items():
            await shard.publish_many(publishes)

    def _deliver_locally(self, group_channel: str, payload: bytes) -> None:
        for channel in self.groups.get(group_channel, ()):
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(payload)

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

    async def group_send_batch(
        self, sends: list[tuple[str, dict[str, Any]]], *, local: bool = True
    ) -> None:
        """`group_send` of each (group, message), in order. The stock layer publishes one
        message per round trip, each behind the shard's lock: under load, a server's frames
        queued there, one Redis round trip apart.

        The members in this process have their messages before this returns, even if the
        publish then fails; `local=False` publishes only (to retry a publish that failed)."""
        await self._get_layer().group_send_batch(sends, local=local)

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
