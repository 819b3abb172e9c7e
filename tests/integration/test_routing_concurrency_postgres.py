"""Routing under real concurrency on PostgreSQL: no chat assigned twice, no agent over capacity.

Many threads start chats (each one's commit drains the queue in that thread) while other
threads flip agents between online and away and open and close their consoles, and TWO
separate worker processes (`manage.py routing_drain`) drain the same test database at the
same time. A sampler thread reads every agent's load throughout.

Wave 1 runs under the manual policy, so only the two worker processes assign (they contend
with each other); wave 2 under the automatic policy, so the starting threads, the agents'
status changes and the workers all drain at once.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count

from chat import services as chat_services
from chat.models import Chat, ChatEvent
from routing import services
from routing.models import AgentProfile
from tests.conftest import ROOT, test_database_url
from tests.factories import AgentFactory, TopicFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STARTERS = 6
CHATS_PER_STARTER = 2  # per wave: 12 chats a wave, 24 in all
WORKER_SECONDS = 10.0


def in_thread(target: Any, *args: Any) -> threading.Thread:
    """A thread that closes its own database connection and records its exception."""

    def body() -> None:
        try:
            target(*args)
        except BaseException as exc:
            errors.append(exc)
            raise
        finally:
            connection.close()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


errors: list[BaseException] = []


def test_concurrent_routing_never_double_assigns_nor_overloads(
    postgres: None, published: Any, settings: Any, tmp_path: Path
) -> None:
    errors.clear()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.HELPDESK_PRESENCE_GRACE_SECONDS = 60  # consoles flap, nobody "leaves"
    returns, billing = TopicFactory(slug="returns"), TopicFactory(slug="billing")
    agents = []
    # 4 agents per topic at 3 chats, one generalist at 2: 26 seats for 24 chats.
    for index in range(9):
        agent = AgentFactory()
        max_chats = 2 if index == 8 else 3
        profile = AgentProfile.objects.create(user=agent, max_chats=max_chats, status="online")
        profile.topics.set([returns, billing] if index == 8 else [(returns, billing)[index % 2]])
        chat_services.console_opened(agent=agent, channel_name=f"it.{agent.pk}.0")
        agents.append(agent)
    limits = dict(AgentProfile.objects.values_list("user_id", "max_chats"))

    # --- Sampling the load of every agent while everything runs. ------------------------------
    done = threading.Event()
    samples = {"count": 0, "violations": [], "peak": Counter()}

    def sample() -> None:
        while not done.is_set():
            loads = dict(
                Chat.objects.filter(status=Chat.Status.ACTIVE)
                .values_list("agent_id")
                .annotate(n=Count("pk"))
                .values_list("agent_id", "n")
            )
            samples["count"] += 1
            for agent_id, n in loads.items():
                samples["peak"][agent_id] = max(samples["peak"][agent_id], n)
                if n > limits[agent_id]:
                    samples["violations"].append((agent_id, n))
            time.sleep(0.01)

    # --- Two worker processes on the test database. ------------------------------------------
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "CELERY_BROKER_URL", "CI"}
    }
    env.update(
        DATABASE_URL=test_database_url(),
        HELPDESK_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "routing_drain", "--seconds", str(WORKER_SECONDS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]

    def start_chats(wave: int, starter: int) -> None:
        for n in range(CHATS_PER_STARTER):
            chat_services.chat_start(
                topic=(returns, billing)[(starter + n) % 2],
                name=f"Customer {wave}-{starter}-{n}",
                first_message="Hello",
            )

    def flap(agent_ids: list[int], stop: threading.Event) -> None:
        """Agents go away and come back, and open and close extra tabs, until told to stop."""
        by_id = {a.pk: a for a in agents}
        turn = 0
        while not stop.is_set():
            agent = by_id[agent_ids[turn % len(agent_ids)]]
            services.agent_status_set(agent=agent, status="away")
            chat_services.console_opened(agent=agent, channel_name=f"it.{agent.pk}.{turn}x")
            services.agent_status_set(agent=agent, status="online")
            chat_services.console_closed(agent=agent, channel_name=f"it.{agent.pk}.{turn}x")
            turn += 1

    for worker in workers:
        # Both are up and draining before any chat starts (a bound, not a speed assertion).
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == b"ready", worker.stderr
    sampler = in_thread(sample)
    try:
        for wave, policy in enumerate(["ManualPolicy", "AutomaticPolicy"]):
            settings.HELPDESK_ROUTING_POLICY = f"routing.policies.{policy}"
            stop_flapping = threading.Event()
            ids = [a.pk for a in agents]
            flappers = [
                in_thread(flap, ids[0::2], stop_flapping),
                in_thread(flap, ids[1::2], stop_flapping),
            ]
            starters = [in_thread(start_chats, wave, s) for s in range(STARTERS)]
            for thread in starters:
                thread.join(timeout=60)
            if policy == "ManualPolicy":
                # Only the worker processes assign in this wave: let them empty the queue
                # while the agents keep flapping.
                deadline = time.monotonic() + WORKER_SECONDS
                while (
                    Chat.objects.filter(status=Chat.Status.QUEUED).exists()
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.05)
            stop_flapping.set()
            for thread in flappers:
                thread.join(timeout=60)
        outputs = [worker.communicate(timeout=60) for worker in workers]
    finally:
        done.set()
        sampler.join(timeout=10)
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    assert not errors, errors
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()[-3000:]
    by_worker = [
        json.loads(out.decode().strip().splitlines()[-1])["assigned"] for out, _ in outputs
    ]

    # Everyone is back online with a console: whatever is still queued must fit now.
    for agent in agents:
        services.agent_status_set(agent=agent, status="online")
    leftovers = services.queue_drain()

    chats = list(Chat.objects.all())
    assert len(chats) == 2 * STARTERS * CHATS_PER_STARTER
    # Every chat assigned, exactly once (no requeue happened: nobody left).
    assert all(chat.status == Chat.Status.ACTIVE for chat in chats)
    assigned = Counter(
        ChatEvent.objects.filter(kind=ChatEvent.Kind.ASSIGNED).values_list("chat_id", flat=True)
    )
    assert assigned == Counter({chat.pk: 1 for chat in chats})
    assert not ChatEvent.objects.filter(kind=ChatEvent.Kind.REQUEUED).exists()
    # No process claims a chat another one assigned.
    claimed = [chat_id for made in by_worker for chat_id, _ in made]
    assert len(claimed) == len(set(claimed))
    # Never over capacity, while running and at the end.
    assert samples["count"] > 0
    assert samples["violations"] == []
    final = Counter(chat.agent_id for chat in chats)
    assert all(final[agent_id] <= limit for agent_id, limit in limits.items()), final
    # Skills held throughout.
    skills = {
        p.user_id: {t.pk for t in p.topics.all()}
        for p in AgentProfile.objects.prefetch_related("topics")
    }
    assert all(chat.topic_id in skills[chat.agent_id] for chat in chats)

    print(
        f"\nrouting concurrency: {len(chats)} chats; worker processes assigned "
        f"{[len(made) for made in by_worker]}, main-process drains the rest "
        f"({len(leftovers)} in the final drain); {samples['count']} load samples, "
        f"peak loads {sorted(samples['peak'].values(), reverse=True)}"
    )
