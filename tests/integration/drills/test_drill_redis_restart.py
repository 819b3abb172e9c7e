"""Drill: Redis (channel layer, cache, broker) restarted mid-conversation.

A customer on daphne A and their agent on daphne B talk through a private Redis. Redis is
killed while both keep writing, and started again on the same port. Delivery must resume by
itself, without restarting daphne: everything written before, during and after the outage
reaches both sides, each message stored once, in the order it was sent.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat.consumers import CLOSE_LAYER_RECONNECTED
from chat.models import Message
from tests.chat.consumers.wsutil import expect_close
from tests.conftest import LiveServer
from tests.helpers import start_chat
from tests.integration.drills.conftest import (
    PrivateRedis,
    customer_and_agent,
    two_servers_and_a_chat,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def test_sockets_are_told_to_resume_when_the_layer_gets_redis_back(
    private_redis: PrivateRedis, settings: Any, sockets: Any
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chat.layers.ResumingRedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": private_redis.url()}], "prefix": "drills-layer"},
        }
    }
    chat = await database_sync_to_async(start_chat)()
    customer, _ = await sockets.customer(chat)
    # Only a reconnection rings: the first connection of the layer did not.
    assert await customer.receive_nothing(timeout=0.3)

    await asyncio.to_thread(private_redis.restart, kill=True)

    await expect_close(customer, CLOSE_LAYER_RECONNECTED)


def test_redis_restart_mid_conversation_loses_nothing(
    postgres: None,
    private_redis: PrivateRedis,
    settings: Any,
    live_server_factory: Callable[..., LiveServer],
    live_env: dict[str, str],
) -> None:
    # The live servers take REDIS_URL from the settings: the private Redis, not the shared one.
    settings.REDIS_URL = private_redis.url()
    setup = two_servers_and_a_chat(live_server_factory, live_env)
    server_a, server_b, started, session = (
        setup.server_a,
        setup.server_b,
        setup.chat,
        setup.session,
    )

    outcome = asyncio.run(
        conversation(
            chat_id=started["id"],
            customer_url=started["ws_url"],
            console_url=f"{server_b.ws_url}/ws/console/",
            origin=server_b.url,
            session=session,
            redis=private_redis,
        )
    )

    stored = list(Message.objects.filter(chat_id=started["id"]).order_by("seq"))
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
    by_sender: dict[str, list[str]] = {"customer": [], "agent": []}
    for message in stored:
        if message.client_msg_id:
            by_sender[message.kind].append(message.client_msg_id)
    # Each message stored once, in the order its sender sent it.
    assert by_sender["customer"] == outcome["customer_sent"]
    assert by_sender["agent"] == outcome["agent_sent"]
    # Both sides hold the whole conversation, each message once, in order.
    for side in ("customer", "agent"):
        assert outcome[f"{side}_seen"] == [m.seq for m in stored], side
    # Connection errors are logged during the outage; no consumer crashed.
    for server in (server_a, server_b):
        assert "Exception inside application" not in server.log_path.read_text()


async def conversation(
    *,
    chat_id: int,
    customer_url: str,
    console_url: str,
    origin: str,
    session: str,
    redis: PrivateRedis,
) -> dict[str, Any]:
    customer, agent = await customer_and_agent(
        [customer_url],
        console_url,
        chat_id=chat_id,
        session=session,
        origin=origin,
        customer_name="customer@A",
    )

    async def exchange(label: str, count: int) -> None:
        for n in range(count):
            await customer.send(f"c-{label}-{n}", f"customer {label} {n}")
            await agent.send(f"a-{label}-{n}", f"agent {label} {n}")
            await asyncio.sleep(0.02)

    await exchange("before", 5)
    await customer.wait_acked()
    await agent.wait_acked()

    # --- Redis dies; both sides keep writing into the outage. ---------------------------
    await asyncio.to_thread(redis.stop, kill=True)
    await exchange("during", 3)
    await asyncio.sleep(0.5)  # the writes meet the outage, not the restarted Redis
    await asyncio.to_thread(redis.start)

    # --- Back: what was written during the outage arrives, and the talk goes on. --------
    await customer.wait_acked()
    await agent.wait_acked()
    await exchange("after", 3)
    await customer.wait_acked()
    await agent.wait_acked()
    last = max(*customer.acks.values(), *agent.acks.values())
    await customer.wait_seen(last)
    await agent.wait_seen(last)
    await asyncio.sleep(0.5)  # room for a late duplicate to show up
    # Both processes told their sockets that the layer had been away (chat.layers).
    assert CLOSE_LAYER_RECONNECTED in customer.close_codes, customer.close_codes
    assert CLOSE_LAYER_RECONNECTED in agent.close_codes, agent.close_codes
    print(
        f"redis drill: {last} messages; reconnects customer {customer.connections - 1}, "
        f"agent {agent.connections - 1}; close codes {customer.close_codes} "
        f"{agent.close_codes}; errors {[e['code'] for e in customer.errors + agent.errors]}"
    )
    await customer.stop()
    await agent.stop()
    return {
        "customer_sent": customer.sent_order,
        "agent_sent": agent.sent_order,
        "customer_seen": sorted(customer.messages),
        "agent_seen": sorted(agent.messages),
    }
