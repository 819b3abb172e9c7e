"""Drill: a daphne process SIGKILLed mid-conversation.

The customer talks from daphne A, the agent from daphne B, both writing steadily. A is killed
with messages in flight and is not restarted: the customer reconnects to B, resumes and resends
what was never acked. Every message sent is stored once and reaches both sides once, in the
order it was sent.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from chat.models import Message
from tests.conftest import LiveServer
from tests.integration.conftest import server_log_problems
from tests.integration.drills.conftest import (
    ResumingClient,
    customer_and_agent,
    two_servers_and_a_chat,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Messages each side sends; A is killed once the customer has sent KILL_AFTER of them.
MESSAGES = 30
KILL_AFTER = 12


def test_daphne_killed_mid_conversation_clients_move_to_the_other_process(
    postgres: None,
    redis_url: str,
    live_server_factory: Callable[..., LiveServer],
    live_env: dict[str, str],
) -> None:
    setup = two_servers_and_a_chat(live_server_factory, live_env)
    server_a, server_b, started, session = (
        setup.server_a,
        setup.server_b,
        setup.chat,
        setup.session,
    )
    path = f"/ws/chat/{started['token']}/"

    outcome = asyncio.run(
        conversation(
            chat_id=started["id"],
            customer_urls=[server_a.ws_url + path, server_b.ws_url + path],
            console_url=f"{server_b.ws_url}/ws/console/",
            origin=server_b.url,
            session=session,
            kill_a=lambda: server_a.stop(kill=True),
        )
    )

    assert server_a.process.returncode == -9
    stored = list(Message.objects.filter(chat_id=started["id"]).order_by("seq"))
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
    sent_ids = {
        kind: [m.client_msg_id for m in stored if m.kind == kind and m.client_msg_id]
        for kind in ("customer", "agent")
    }
    # Each message stored exactly once, in the order its sender sent it.
    assert sent_ids["customer"] == outcome["customer_sent"]
    assert sent_ids["agent"] == outcome["agent_sent"]
    # Both sides hold the whole conversation, each message once, in order.
    assert outcome["customer_seen"] == [m.seq for m in stored]
    assert outcome["agent_seen"] == [m.seq for m in stored]
    assert not server_log_problems(server_b), server_b.log_path.read_text()[-3000:]


async def conversation(
    *,
    chat_id: int,
    customer_urls: list[str],
    console_url: str,
    origin: str,
    session: str,
    kill_a: Callable[[], None],
) -> dict[str, Any]:
    customer, agent = await customer_and_agent(
        customer_urls,
        console_url,
        chat_id=chat_id,
        session=session,
        origin=origin,
        customer_name="customer",
    )

    async def write(client: ResumingClient, prefix: str) -> None:
        for n in range(MESSAGES):
            await client.send(f"{prefix}-{n}", f"{client.name} says {n}")
            if client is customer and n == KILL_AFTER:
                # Killed with this message (and maybe the ones before it) unacked.
                await asyncio.to_thread(kill_a)
            await asyncio.sleep(0.03)

    await asyncio.gather(write(customer, "c"), write(agent, "a"))
    await customer.wait_acked()
    await agent.wait_acked()
    last = max(*customer.acks.values(), *agent.acks.values())
    await customer.wait_seen(last)
    await agent.wait_seen(last)
    await asyncio.sleep(0.5)  # room for a late duplicate to show up
    assert customer.connections == 2 and customer.conn is not None
    assert customer.url_index % len(customer_urls) == 1, "the customer did not move to B"
    duplicates = {
        name: sum(n - 1 for n in client.arrivals.values())
        for name, client in (("customer", customer), ("agent", agent))
    }
    print(
        f"daphne drill: {last} messages; customer reconnected to B after close "
        f"{customer.close_codes}; frames that arrived twice (live and in a resume) {duplicates}"
    )
    await customer.stop()
    await agent.stop()
    return {
        "customer_sent": customer.sent_order,
        "agent_sent": agent.sent_order,
        "customer_seen": sorted(customer.messages),
        "agent_seen": sorted(agent.messages),
    }
