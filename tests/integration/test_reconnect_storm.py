"""A reconnect storm: 200 customers and 200 agents connect to one daphne process at once.

This is what every client does after a deploy or a restart. Every handshake must succeed and
every socket must get its first frame; then one message each way per chat must arrive, once.
The figures are printed (run with -s to see them, they also appear with a failure); nothing
here asserts on speed.
"""

import asyncio
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings

from chat.models import Message
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory
from tests.helpers import active_chat, token_for
from tests.integration.conftest import WsClient, server_log_problems, session_cookie_for

# A load test: it has the machine to itself (no other xdist worker runs a test meanwhile).
pytestmark = [pytest.mark.integration, pytest.mark.exclusive]

# The storm's size can be raised to look for a server's limits, e.g. HELPDESK_STORM_CHATS=600.
CHATS = int(os.environ.get("HELPDESK_STORM_CHATS", "200"))


@dataclass(frozen=True)
class Row:
    chat_id: int
    token: str
    agent_id: int
    session: str


@dataclass
class Figures:
    sockets: int = 0
    connected: int = 0
    connect_s: float = 0.0
    slowest_socket_s: float = 0.0
    exchange_s: float = 0.0
    delivered: int = 0
    acked: int = 0
    problems: list[str] = field(default_factory=list)


def raise_file_limit() -> None:
    """Room for 400 sockets here and in the server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(4096, 4 * CHATS + 256)
    wanted = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 3 * CHATS, "too few file descriptors"


def test_reconnect_storm_of_400_sockets(
    postgres: None,
    redis_url: str,
    live_server_factory: Callable[..., LiveServer],
    live_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server runs the configured channel layer (HELPDESK_CHANNEL_LAYER: pub/sub unless
    set, as in CI); run with HELPDESK_CHANNEL_LAYER=core to storm the core layer."""
    assert settings.REDIS_URL, "the live server must run on Redis"
    raise_file_limit()
    began = time.monotonic()
    topic = TopicFactory()
    rows = []
    with monkeypatch.context() as patch:
        # No socket is connected yet: skip 800 doorbells to nobody (each one a new Redis
        # connection from this synchronous code), which would double the setup time.
        patch.setattr("chat.events.publish_now", lambda **_: None)
        for i in range(CHATS):
            agent = AgentFactory()
            chat = active_chat(agent=agent, topic=topic, name=f"Customer {i}", message=f"Q{i}")
            rows.append(Row(chat.pk, token_for(chat), agent.pk, session_cookie_for(agent)))
    setup_s = time.monotonic() - began
    server = live_server_factory(env=live_env)

    figures = asyncio.run(storm(server, rows))

    print(
        f"\nreconnect storm ({settings.HELPDESK_CHANNEL_LAYER} layer, {CHATS} chats, "
        f"setup {setup_s:.1f} s): {figures.connected}/{figures.sockets} handshakes + first "
        f"frames in {figures.connect_s:.2f} s (slowest socket {figures.slowest_socket_s:.2f} s); "
        f"{figures.delivered}/{2 * CHATS} messages delivered and {figures.acked}/{2 * CHATS} "
        f"acked in {figures.exchange_s:.2f} s"
    )
    assert not figures.problems, f"{len(figures.problems)} problems:\n" + "\n".join(
        figures.problems[:10]
    )
    # The database agrees: in each chat, greeting, question, "joined", then the two messages.
    stored: dict[int, list[tuple[int, str]]] = {}
    for chat_id, seq, client_msg_id in Message.objects.filter(
        chat_id__in=[r.chat_id for r in rows]
    ).values_list("chat_id", "seq", "client_msg_id"):
        stored.setdefault(chat_id, []).append((seq, client_msg_id))
    for row in rows:
        seqs = sorted(stored[row.chat_id])
        assert [seq for seq, _ in seqs] == [1, 2, 3, 4, 5], seqs
        assert sorted(cid for _, cid in seqs if cid) == ["a-1", "c-1"], seqs
    assert not server_log_problems(server), "\n".join(server_log_problems(server)[:20])


async def open_socket(url: str, **kwargs: Any) -> WsClient:
    started = time.monotonic()
    try:
        return await WsClient.connect(url, open_timeout=60, **kwargs)
    except Exception as exc:
        raise AssertionError(f"{exc!r} after {time.monotonic() - started:.2f} s") from exc


async def storm(server: LiveServer, rows: list[Row]) -> Figures:
    figures = Figures(sockets=2 * len(rows))

    async def customer(row: Row) -> tuple[WsClient, float]:
        started = time.monotonic()
        client = await open_socket(f"{server.ws_url}/ws/chat/{row.token}/", name=f"c{row.chat_id}")
        first = await client.wait_for(lambda f: True, timeout=60, what="a first frame")
        assert (first["type"], first["id"], first["status"]) == ("chat", row.chat_id, "active")
        return client, time.monotonic() - started

    async def console(row: Row) -> tuple[WsClient, float]:
        started = time.monotonic()
        client = await open_socket(
            f"{server.ws_url}/ws/console/",
            origin=server.url,
            session=row.session,
            name=f"agent{row.agent_id}",
        )
        first = await client.wait_for(lambda f: True, timeout=60, what="a first frame")
        assert first["type"] == "chats", first
        assert [(c["id"], c["agent"]["id"]) for c in first["chats"]] == [
            (row.chat_id, row.agent_id)
        ]
        return client, time.monotonic() - started

    # Everyone at once.
    started = time.monotonic()
    results = await asyncio.gather(
        *(customer(row) for row in rows), *(console(row) for row in rows), return_exceptions=True
    )
    figures.connect_s = time.monotonic() - started
    opened = [r for r in results if not isinstance(r, BaseException)]
    figures.connected = len(opened)
    figures.slowest_socket_s = max((seconds for _, seconds in opened), default=0.0)
    failed = sorted(str(r) for r in results if isinstance(r, BaseException))
    if failed:
        figures.problems += [f"{len(failed)} of {len(results)} sockets failed:", *failed]
        await asyncio.gather(*(client.close() for client, _ in opened), return_exceptions=True)
        return figures
    customers = [client for client, _ in results[: len(rows)]]  # type: ignore[misc]
    consoles = [client for client, _ in results[len(rows) :]]  # type: ignore[misc]

    # One message each way per chat, all sent at once.
    started = time.monotonic()
    sends = [
        cust.send(type="message", body=f"from customer {row.chat_id}", client_msg_id="c-1")
        for cust, row in zip(customers, rows, strict=True)
    ] + [
        cons.send(
            type="message", chat=row.chat_id, body=f"from agent {row.chat_id}", client_msg_id="a-1"
        )
        for cons, row in zip(consoles, rows, strict=True)
    ]
    await asyncio.gather(*sends)

    async def exchange(cust: WsClient, cons: WsClient, row: Row) -> None:
        await cust.wait_type("ack", client_msg_id="c-1")
        await cons.wait_type("ack", client_msg_id="a-1")
        from_agent = await cust.wait_type("message", client_msg_id="a-1")
        from_customer = await cons.wait_type("message", client_msg_id="c-1")
        assert from_agent["body"] == f"from agent {row.chat_id}"
        assert from_customer["body"] == f"from customer {row.chat_id}"
        # Each sender gets its own message too; the ack may come first (docs/protocol.md).
        await cust.wait_type("message", client_msg_id="c-1")
        await cons.wait_type("message", client_msg_id="a-1")

    outcomes = await asyncio.gather(
        *(exchange(c, a, r) for c, a, r in zip(customers, consoles, rows, strict=True)),
        return_exceptions=True,
    )
    figures.exchange_s = time.monotonic() - started
    await asyncio.sleep(0.5)  # room for a stray or duplicate frame to show up

    figures.problems += [f"chat exchange: {o}" for o in outcomes if isinstance(o, BaseException)]
    for cust, cons in zip(customers, consoles, strict=True):
        for client, other in ((cust, "a-1"), (cons, "c-1")):
            figures.delivered += any(f["client_msg_id"] == other for f in client.of_type("message"))
            figures.acked += len(client.of_type("ack"))
            # Its own message and the other side's, each exactly once (seqs 4 and 5).
            counts = client.message_seq_counts()
            if counts != {4: 1, 5: 1}:
                figures.problems.append(f"{client.name} received message seqs {dict(counts)}")
            if client.of_type("error"):
                figures.problems.append(f"{client.name}: {client.of_type('error')}")
    await asyncio.gather(*(c.close() for c in customers + consoles), return_exceptions=True)
    return figures
