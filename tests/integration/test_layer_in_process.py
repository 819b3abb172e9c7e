"""The product's channel layer delivers in-process (chat.layers): members in the sending process
get a message once, straight onto their queues, and members in other processes get it once
through Redis. Two layer objects on one Redis and prefix stand for two server processes."""

import asyncio
import uuid
from typing import Any

import pytest

from chat import events
from chat.layers import ResumingRedisPubSubChannelLayer

pytestmark = pytest.mark.integration


def two_processes(redis_url: str) -> tuple[ResumingRedisPubSubChannelLayer, ...]:
    prefix = f"inproc-{uuid.uuid4().hex[:8]}"
    return tuple(
        ResumingRedisPubSubChannelLayer(hosts=[{"address": redis_url}], prefix=prefix)
        for _ in range(2)
    )


async def receive_all(layer: Any, channel: str, count: int) -> list[int]:
    """The seqs of the next `count` messages."""
    return [
        (await asyncio.wait_for(layer.receive(channel), timeout=10))["frame"]["seq"]
        for _ in range(count)
    ]


async def nothing_more(*sockets: tuple[Any, str]) -> None:
    """Each (layer, channel) gets nothing more; then the layers are flushed. Last in a test: a
    receive cut short ends the channel (channels_redis unsubscribes it)."""
    for layer, channel in sockets:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(channel), timeout=0.3)
    for layer in {id(layer): layer for layer, _ in sockets}.values():
        await layer.flush()


def test_members_here_and_elsewhere_get_each_message_once_in_order(redis_url: str) -> None:
    here, elsewhere = two_processes(redis_url)

    async def scenario() -> dict[str, list[int]]:
        customer = await here.new_channel()
        console = await elsewhere.new_channel()
        watcher = await here.new_channel()
        await here.group_add("chat.1", customer)
        await elsewhere.group_add("chat.1", console)
        await here.group_add("watch.1", watcher)
        sends = []
        for seq in range(1, 101):
            event = {"type": "frame.send", "frame": {"seq": seq}}
            sends += [("chat.1", event), ("watch.1", event)]
        await here.group_send_batch(sends)
        received = {
            "customer": await receive_all(here, customer, 100),
            "console": await receive_all(elsewhere, console, 100),
            "watcher": await receive_all(here, watcher, 100),
        }
        # And back the other way, through the single-message API.
        await elsewhere.group_send("chat.1", {"type": "frame.send", "frame": {"seq": 101}})
        received["customer back"] = await receive_all(here, customer, 1)
        received["console back"] = await receive_all(elsewhere, console, 1)
        await nothing_more((here, customer), (elsewhere, console), (here, watcher))
        return received

    received = asyncio.run(scenario())
    assert received["customer"] == list(range(1, 101))
    assert received["console"] == list(range(1, 101))
    assert received["watcher"] == list(range(1, 101))
    assert received["customer back"] == [101]
    assert received["console back"] == [101]


def test_a_send_to_one_channel_reaches_it_once_wherever_it_lives(redis_url: str) -> None:
    here, elsewhere = two_processes(redis_url)

    async def scenario() -> tuple[list[int], list[int]]:
        mine = await here.new_channel()
        theirs = await elsewhere.new_channel()
        await here.send(mine, {"type": "frame.send", "frame": {"seq": 1}})
        await here.send(theirs, {"type": "frame.send", "frame": {"seq": 2}})
        result = (await receive_all(here, mine, 1), await receive_all(elsewhere, theirs, 1))
        await nothing_more((here, mine), (elsewhere, theirs))
        return result

    assert asyncio.run(scenario()) == ([1], [2])


def test_a_failed_publish_is_retried_without_a_second_local_copy(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chat.events sends what was queued meanwhile together; when that publish fails it
    publishes each batch again alone. The sockets of the process had theirs the first time."""
    here, elsewhere = two_processes(redis_url)
    monkeypatch.setattr(events, "get_channel_layer", lambda: here)

    async def scenario() -> tuple[list[int], list[int]]:
        customer = await here.new_channel()
        console = await elsewhere.new_channel()
        await here.group_add("chat.1", customer)
        await elsewhere.group_add("chat.1", console)
        shard = here._get_layer()._shards[0]
        publish_many = shard.publish_many
        calls = 0

        async def fails_once(publishes: list[tuple[str, bytes]]) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("Redis went away for a moment")
            await publish_many(publishes)

        monkeypatch.setattr(shard, "publish_many", fails_once)
        state = events._LoopSends()
        for seq in (1, 2, 3):
            state.queue.append(([("chat.1", {"type": "frame.send", "frame": {"seq": seq}})], "m"))
            state.pending += 1
        await events._send_queued(state)
        result = (await receive_all(here, customer, 3), await receive_all(elsewhere, console, 3))
        await nothing_more((here, customer), (elsewhere, console))
        return result

    customer, console = asyncio.run(scenario())
    assert customer == [1, 2, 3]
    assert console == [1, 2, 3]
