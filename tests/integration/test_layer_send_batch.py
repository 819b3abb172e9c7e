"""The product's channel layer sends a batch of group messages in one round trip per shard
(chat.layers): every member of every group gets its messages, in the order of the batch, once."""

import asyncio
import uuid
from typing import Any

import pytest

from chat.layers import ResumingRedisPubSubChannelLayer

pytestmark = pytest.mark.integration


def test_a_batch_reaches_every_member_in_order_once(redis_url: str) -> None:
    layer = ResumingRedisPubSubChannelLayer(
        hosts=[{"address": redis_url}], prefix=f"batch-{uuid.uuid4().hex[:8]}"
    )

    async def scenario() -> dict[str, list[Any]]:
        customer = await layer.new_channel()
        console = await layer.new_channel()
        watcher = await layer.new_channel()
        await layer.group_add("chat.1", customer)
        await layer.group_add("agent.7", console)
        await layer.group_add("watch.1", watcher)
        await layer.group_add("watch.1", console)
        sends: list[tuple[str, dict[str, Any]]] = []
        for seq in range(1, 201):
            event = {"type": "frame.send", "frame": {"seq": seq}}
            # One event object to several groups, as chat.events publishes a message.
            sends += [("chat.1", event), ("agent.7", event), ("watch.1", event), ("nobody", event)]
        await layer.group_send_batch(sends[:400])
        await layer.group_send_batch(sends[400:])
        received: dict[str, list[Any]] = {"customer": [], "console": [], "watcher": []}
        for name, channel, expected in (
            ("customer", customer, 200),
            ("console", console, 400),
            ("watcher", watcher, 200),
        ):
            for _ in range(expected):
                message = await asyncio.wait_for(layer.receive(channel), timeout=10)
                received[name].append(message["frame"]["seq"])
        # Nothing more arrives for anyone.
        for channel in (customer, console, watcher):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(layer.receive(channel), timeout=0.3)
        await layer.flush()
        return received

    received = asyncio.run(scenario())
    assert received["customer"] == list(range(1, 201))
    assert received["watcher"] == list(range(1, 201))
    # The console is in two groups: each message twice, in order.
    assert received["console"] == [seq for seq in range(1, 201) for _ in range(2)]
