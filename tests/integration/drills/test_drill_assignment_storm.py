"""Drill: an assignment storm.

500 customers start a chat at the same moment, through the public API of two daphne processes,
while 20 agents (at most 5 chats each) are on duty: 14 online with a console, and 6 who must
get nothing (away, offline, or online without any console). Under the automatic policy every
start drains the queue in its own transaction, in both processes at once. No chat may be
assigned twice, no agent may go over their limit (sampled throughout), nobody unavailable may
get a chat, and every free seat must be filled.
"""

import threading
import time
import urllib.error
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count

from chat import services as chat_services
from chat.models import Chat, ChatEvent
from routing.models import AgentProfile
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory
from tests.integration.test_two_processes import post_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHATS = 500
LIMIT = 5
ONLINE = 14
# Agents who must get nothing: (status, console open).
UNAVAILABLE = [("away", True), ("away", True), ("offline", True), ("offline", True)]
UNAVAILABLE += [("online", False), ("online", False)]
CLIENT_THREADS = 40
# How long one chat start may wait in a server's line during the storm (40 at once, ~0.1 s of
# work each, on a loaded CI machine): a bound for the network wait, never a speed assertion.
STORM_SECONDS = 60.0


def test_500_chats_at_once_never_double_assign_nor_overload(
    postgres: None,
    redis_url: str,
    live_server_factory: Callable[..., LiveServer],
    live_env: dict[str, str],
) -> None:
    topic = TopicFactory(slug="returns", name="Returns")
    available, unavailable = [], []
    for index in range(ONLINE + len(UNAVAILABLE)):
        agent = AgentFactory()
        status, console = ("online", True) if index < ONLINE else UNAVAILABLE[index - ONLINE]
        AgentProfile.objects.create(user=agent, max_chats=LIMIT, status=status)
        if console:
            # A live console as the presence rows record it (shared by every process).
            chat_services.console_opened(agent=agent, channel_name=f"drill.{agent.pk}")
        (available if status == "online" and console else unavailable).append(agent.pk)
    env = {
        **live_env,
        "HELPDESK_ROUTING_POLICY": "routing.policies.AutomaticPolicy",
        "HELPDESK_PUBLIC_CHAT_RATE": "100000/min",
    }
    servers = [live_server_factory(env=env), live_server_factory(env=env)]

    # --- Load sampled throughout, from this process. ------------------------------------------
    done = threading.Event()
    samples: dict[str, Any] = {"count": 0, "over": []}

    def sample() -> None:
        try:
            while not done.is_set():
                loads = (
                    Chat.objects.filter(status=Chat.Status.ACTIVE)
                    .values("agent_id")
                    .annotate(n=Count("pk"))
                )
                samples["count"] += 1
                samples["over"] += [row for row in loads if row["n"] > LIMIT]
                time.sleep(0.02)
        finally:
            connection.close()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    # --- The storm: every request released at the same moment. -------------------------------
    gate = threading.Barrier(CLIENT_THREADS)

    def customers(thread: int) -> list[int]:
        gate.wait(timeout=30)
        started = []
        for n in range(thread, CHATS, CLIENT_THREADS):
            server = servers[n % len(servers)]
            payload = {"name": f"Customer {n}", "topic": topic.slug, "message": f"Q{n}"}
            try:
                # Every request waits in line in its server: a bound, not a speed target.
                status, body = post_json(
                    f"{server.url}/api/v1/public/chats/", payload, timeout=STORM_SECONDS
                )
            except urllib.error.HTTPError as error:
                raise AssertionError(f"chat {n}: {error.code} {error.read()[:300]!r}") from None
            assert status == 201, body
            started.append(body["id"])
        return started

    began = time.monotonic()
    try:
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            ids = [i for made in pool.map(customers, range(CLIENT_THREADS)) for i in made]
    finally:
        done.set()
        sampler.join(timeout=10)
    storm_s = time.monotonic() - began

    assert len(ids) == len(set(ids)) == CHATS
    chats = list(Chat.objects.filter(pk__in=ids))
    active = [chat for chat in chats if chat.status == Chat.Status.ACTIVE]
    # No chat assigned twice, none taken back meanwhile.
    assigned = Counter(
        ChatEvent.objects.filter(kind=ChatEvent.Kind.ASSIGNED).values_list("chat_id", flat=True)
    )
    assert set(assigned.values()) == {1}, assigned.most_common(3)
    assert set(assigned) == {chat.pk for chat in active}
    assert not ChatEvent.objects.filter(kind=ChatEvent.Kind.REQUEUED).exists()
    # Nobody over their limit, while it ran and at the end; nobody unavailable got a chat.
    assert samples["count"] > 0 and samples["over"] == []
    loads = Counter(chat.agent_id for chat in active)
    assert not set(loads) & set(unavailable), loads
    # Every seat of the available agents filled, the rest still waiting in the queue.
    assert loads == Counter({agent_id: LIMIT for agent_id in available})
    assert sum(chat.status == Chat.Status.QUEUED for chat in chats) == CHATS - ONLINE * LIMIT
    print(
        f"\nassignment storm: {CHATS} chats through {len(servers)} processes in {storm_s:.1f} s; "
        f"{len(active)} assigned to {len(loads)} agents, {samples['count']} load samples"
    )
