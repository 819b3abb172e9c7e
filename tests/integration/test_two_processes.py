"""Two daphne processes sharing Redis: a customer on A, the agent's console on B.

Then B is killed (SIGKILL) and restarted on the same port: the agent reconnects, resumes from
its last seq and resends what was never acked; nothing is lost, nothing is stored or shown twice.
"""

import asyncio
import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings

from chat.models import Chat, Message
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory
from tests.integration.conftest import (
    WsClient,
    highest_contiguous,
    server_log_problems,
    session_cookie_for,
)

pytestmark = pytest.mark.integration


def post_json(
    url: str, payload: dict[str, Any], *, timeout: float = 10
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def test_customer_and_agent_on_two_processes_survive_a_killed_server(
    postgres: None,
    redis_url: str,
    live_server_factory: Callable[..., LiveServer],
    live_env: dict[str, str],
) -> None:
    assert settings.REDIS_URL, "the live servers must share Redis"
    agent = AgentFactory()
    topic = TopicFactory(slug="returns", name="Returns")
    session = session_cookie_for(agent)
    server_a = live_server_factory(env=live_env)
    server_b = live_server_factory(env=live_env)

    status, started = post_json(
        f"{server_a.url}/api/v1/public/chats/",
        {"name": "Ana Lima", "email": "ana@example.com", "topic": topic.slug, "message": "Hi"},
    )
    assert status == 201 and started["status"] == "queued"
    assert started["ws_url"].startswith(f"{server_a.ws_url}/ws/chat/")
    chat_id = started["id"]

    outcome = asyncio.run(
        scenario(
            chat_id=chat_id,
            customer_url=started["ws_url"],
            session=session,
            server_b=server_b,
            restart_b=lambda: live_server_factory(port=server_b.port, env=live_env),
        )
    )

    # The database agrees: every message once, seqs 1..N without gaps.
    chat = Chat.objects.get(pk=chat_id)
    messages = list(Message.objects.filter(chat_id=chat_id).order_by("seq"))
    assert [m.seq for m in messages] == list(range(1, chat.last_seq + 1))
    ids = [m.client_msg_id for m in messages if m.client_msg_id]
    assert sorted(ids) == ["a-1", "a-2", "a-3", "c-1", "c-2"]
    by_id = {m.client_msg_id: m for m in messages if m.client_msg_id}
    assert by_id["a-2"].seq == outcome["a2_seq"]
    assert by_id["a-3"].seq == outcome["a3_seq"]
    assert by_id["c-2"].seq == outcome["c2_seq"]
    assert outcome["customer_history"] == [m.seq for m in messages]

    for server in (server_a, server_b):
        assert not server_log_problems(server), server.log_path.read_text()[-3000:]


async def scenario(
    *,
    chat_id: int,
    customer_url: str,
    session: str,
    server_b: LiveServer,
    restart_b: Callable[[], LiveServer],
) -> dict[str, Any]:
    console_url = f"{server_b.ws_url}/ws/console/"
    origin_b = server_b.url

    # --- Both sides connect, each to its own process. -------------------------------------
    customer = await WsClient.connect(customer_url, name="customer@A")
    state = await customer.wait_type("chat")
    assert (state["id"], state["status"], state["last_seq"]) == (chat_id, "queued", 2)

    agent = await WsClient.connect(console_url, origin=origin_b, session=session, name="agent@B")
    snapshot = await agent.wait_type("chats")
    assert [c["id"] for c in snapshot["chats"]] == [chat_id]

    # --- The agent takes the chat; messages flow both ways across the processes. ----------
    await agent.send(type="take", chat=chat_id)
    taken = await agent.wait_type("chat", id=chat_id, status="active")
    assert (await customer.wait_type("chat", status="active"))["agent"] is not None

    await agent.send(type="message", chat=chat_id, body="Hello Ana", client_msg_id="a-1")
    a1 = (await agent.wait_type("ack", client_msg_id="a-1"))["seq"]
    assert a1 == taken["last_seq"] + 1
    got = await customer.wait_type("message", seq=a1)
    assert (got["body"], got["kind"], got["client_msg_id"]) == ("Hello Ana", "agent", "a-1")

    await customer.send(type="message", body="My parcel is late", client_msg_id="c-1")
    c1 = (await customer.wait_type("ack", client_msg_id="c-1"))["seq"]
    assert c1 == a1 + 1
    seen = await agent.wait_type("message", seq=c1)
    assert (seen["body"], seen["kind"]) == ("My parcel is late", "customer")

    await asyncio.sleep(0.5)  # room for a duplicate to show up
    # Each side got every message since the take exactly once: "<agent> joined the chat.",
    # the agent's message and the customer's (the sender's own included, for its other tabs).
    joined = taken["last_seq"]
    assert (await customer.wait_type("message", seq=joined))["kind"] == "system"
    assert customer.message_seq_counts() == {joined: 1, a1: 1, c1: 1}, customer.of_type("message")
    assert agent.message_seq_counts() == {joined: 1, a1: 1, c1: 1}, agent.of_type("message")

    # The console loads the chat's history, as it does when the agent opens the chat.
    replay, resumed = await agent.resume(chat=chat_id, after_seq=0)
    assert [f["seq"] for f in replay] == list(range(1, c1 + 1))
    assert (resumed["last_seq"], resumed["more"]) == (c1, False)
    agent_last = highest_contiguous(agent.message_seq_counts())
    assert agent_last == c1

    # --- The agent's process dies with messages in flight. ---------------------------------
    # a-2 is stored and delivered, but its ack never reaches the console: the client reads
    # nothing more from here on.
    await agent.stop_reading()
    await agent.send(type="message", chat=chat_id, body="Let me check", client_msg_id="a-2")
    a2 = (await customer.wait_type("message", client_msg_id="a-2"))["seq"]
    # a-3 is sent as the process dies: it may or may not have been stored.
    await agent.send(type="message", chat=chat_id, body="One moment", client_msg_id="a-3")
    await asyncio.to_thread(server_b.stop, kill=True)
    assert server_b.process.returncode == -9
    agent.abort()

    # The customer writes while the agent is away.
    await customer.send(type="message", body="Are you still there?", client_msg_id="c-2")
    c2 = (await customer.wait_type("ack", client_msg_id="c-2"))["seq"]
    assert c2 in (a2 + 1, a2 + 2)
    a3_stored_before = c2 == a2 + 2  # B stored a-3 before it died

    # --- B comes back on the same port; the agent reconnects and resumes. ------------------
    restarted = await asyncio.to_thread(restart_b)
    assert restarted.port == server_b.port
    agent = await WsClient.connect(
        console_url, origin=origin_b, session=session, name="agent@B-again"
    )
    snapshot = await agent.wait_type("chats")
    [mine] = [c for c in snapshot["chats"] if c["id"] == chat_id]
    assert (mine["status"], mine["last_seq"]) == ("active", c2)

    replay, resumed = await agent.resume(chat=chat_id, after_seq=agent_last)
    replayed = [f["seq"] for f in replay]
    assert replayed == list(range(agent_last + 1, c2 + 1)), replay  # exactly the missed ones
    assert (resumed["last_seq"], resumed["more"]) == (c2, False)
    replayed_ids = {f["client_msg_id"]: f["seq"] for f in replay}
    assert replayed_ids["a-2"] == a2 and replayed_ids["c-2"] == c2
    assert ("a-3" in replayed_ids) == a3_stored_before

    # Unacked messages are resent with the same client_msg_id.
    await agent.send(type="message", chat=chat_id, body="Let me check", client_msg_id="a-2")
    await agent.send(type="message", chat=chat_id, body="One moment", client_msg_id="a-3")
    assert (await agent.wait_type("ack", client_msg_id="a-2"))["seq"] == a2
    a3 = (await agent.wait_type("ack", client_msg_id="a-3"))["seq"]
    assert a3 == (replayed_ids["a-3"] if a3_stored_before else c2 + 1)
    if not a3_stored_before:
        await customer.wait_type("message", client_msg_id="a-3", seq=a3)

    await asyncio.sleep(0.5)  # room for a duplicate to show up
    # After the reconnect the console got every message once (replay or live), none twice.
    counts = agent.message_seq_counts()
    assert all(n == 1 for n in counts.values()), counts
    assert set(counts) == set(range(agent_last + 1, max(c2, a3) + 1)), counts
    assert not agent.of_type("error"), agent.of_type("error")
    # The customer, connected to A throughout, never got a message frame twice.
    counts = customer.message_seq_counts()
    assert all(n == 1 for n in counts.values()), counts
    assert {a1, c1, a2, c2, a3} - set(counts) <= (
        # Only if B died between storing a-3 and ringing the doorbell: the resume heals it.
        {a3} if a3_stored_before else set()
    ), counts
    assert not customer.of_type("error"), customer.of_type("error")

    history, _ = await customer.resume(after_seq=0)
    print(
        f"two processes: a-2 #{a2} (stored, ack lost), a-3 #{a3} "
        f"({'stored before' if a3_stored_before else 'not stored before'} the kill), "
        f"c-2 #{c2}; agent resumed after #{agent_last}: {replayed}"
    )
    await customer.close()
    await agent.close()
    return {
        "a2_seq": a2,
        "a3_seq": a3,
        "c2_seq": c2,
        "a3_stored_before_kill": a3_stored_before,
        "customer_history": [f["seq"] for f in history],
    }
