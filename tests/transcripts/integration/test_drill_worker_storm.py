"""Drill: 1,000 chats close while the Celery worker is SIGKILLed again and again and the broker
is restarted once.

Each close queues a transcript email. The worker (prefork, one pool child, the whole process
group killed) is killed each time it is in the middle of a send: the SMTP sink holds the
message before answering, the worker dies waiting, and the sink then refuses the message (451)
as a server does when its client vanished. The broker is a private redis-server (append-only
file, fsync always, as a broker that must not lose tasks is run), killed and restarted while
chats are still closing. Exactly 1,000 transcript emails must arrive, one per chat, none twice.
"""

import email
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import parseaddr
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from chat import services as chat_services
from chat.services import Participant
from tests.conftest import free_port
from tests.factories import TopicFactory
from tests.integration.drills.conftest import PrivateRedis, wait_until
from tests.transcripts.integration.conftest import queueing_to, worker_env
from tests.transcripts.integration.test_worker_killed import HoldingInbox, Workers
from transcripts.models import Delivery

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHATS = 1000
# The worker is killed mid-send after this many emails arrived, each time; the broker is
# restarted once, after the second kill, while chats are still closing (the closes run ahead of
# the sends).
KILL_AT = (100, 250, 450, 700)
RESTART_BROKER_AFTER_KILL = 2
CUSTOMER_THREADS = 4
# Seconds before Redis gives an unacked task back (the killed worker's), here only.
VISIBILITY_SECONDS = 2
# A bound for the whole drill to finish, never an assertion on speed.
DRILL_SECONDS = 240.0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateRedis]:
    folder = tmp_path / "broker"
    folder.mkdir()
    server = PrivateRedis(port=free_port(), folder=folder, persistent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sink() -> Iterator[tuple[HoldingInbox, int]]:
    inbox = HoldingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    inbox.release.set()
    controller.stop()


@pytest.fixture
def workers(
    broker: PrivateRedis,
    sink: tuple[HoldingInbox, int],
    tmp_path: Path,
    settings: Any,
    redis_url: str,
) -> Iterator[Workers]:
    env = {
        **worker_env(redis_url=broker.url(), smtp_port=sink[1], tmp_path=tmp_path),
        # The channel layer and cache stay on the shared Redis: only the broker is private.
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker.url(),
        "HELPDESK_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
        "HELPDESK_CELERY_RESTORE_INTERVAL": "1",
        "HELPDESK_CELERY_RESTORE_THROTTLE": "1",
    }
    with queueing_to(broker.url(), settings):
        running = Workers(env, tmp_path)
        yield running
        running.stop_all()


def customers(thread: int, *, topic: Any) -> None:
    """Chats started and closed by customers, CUSTOMER_THREADS at a time."""
    try:
        for n in range(thread, CHATS, CUSTOMER_THREADS):
            chat = chat_services.chat_start(
                topic=topic,
                name=f"Customer {n}",
                email=f"customer{n}@example.com",
                first_message="Hello",
                consent_transcript=True,
            )
            chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())
    finally:
        connection.close()


def test_a_thousand_transcripts_arrive_once_through_worker_kills_and_a_broker_restart(
    workers: Workers, broker: PrivateRedis, sink: tuple[HoldingInbox, int], published: Any
) -> None:
    """`published`: no socket listens in this drill, so nothing goes to the channel layer."""
    inbox, _ = sink
    topic = TopicFactory()
    events: list[str] = []
    failures: list[BaseException] = []
    deadline = time.monotonic() + DRILL_SECONDS

    def last_log() -> str:
        return workers.log(len(workers.processes) - 1)

    def chaos() -> None:
        """Kill the worker mid-send at each mark, restarting it; restart the broker once."""
        try:
            for kill, mark in enumerate(KILL_AT, start=1):
                while len(inbox.accepted) < mark:
                    assert time.monotonic() < deadline, f"stuck before {mark}: {last_log()}"
                    time.sleep(0.02)
                inbox.release.clear()
                inbox.holding.clear()
                inbox.hold.set()
                assert inbox.holding.wait(timeout=30), last_log()
                workers.kill(workers.processes[-1])
                inbox.hold.clear()
                inbox.release.set()  # the held message is refused: it never arrived
                events.append(f"worker killed mid-send at {len(inbox.accepted)} emails")
                if kill == RESTART_BROKER_AFTER_KILL:
                    broker.restart(kill=True)
                    events.append(f"broker restarted at {len(inbox.accepted)} emails")
                workers.start()
        except BaseException as exc:
            failures.append(exc)

    workers.start()
    began = time.monotonic()
    controller = threading.Thread(target=chaos, daemon=True)
    controller.start()
    # Customers start and close chats meanwhile, each close queueing a transcript.
    with ThreadPoolExecutor(CUSTOMER_THREADS) as pool:
        list(pool.map(partial(customers, topic=topic), range(CUSTOMER_THREADS)))
    closed_s = time.monotonic() - began
    controller.join(timeout=DRILL_SECONDS)
    assert not failures, failures
    assert len(events) == len(KILL_AT) + 1, events

    wait_until(
        lambda: len(inbox.accepted) >= CHATS,
        f"{CHATS} emails (got {len(inbox.accepted)})",
        timeout=max(1.0, deadline - time.monotonic()),
    )
    time.sleep(VISIBILITY_SECONDS + 1.5)  # room for a duplicate from a restored task
    sent_s = time.monotonic() - began

    received = [email.message_from_bytes(raw) for raw in inbox.accepted]
    by_recipient = Counter(parseaddr(message["To"])[1] for message in received)
    assert len(received) == CHATS, by_recipient.most_common(3)
    assert set(by_recipient) == {f"customer{n}@example.com" for n in range(CHATS)}
    assert len({message["Message-ID"] for message in received}) == CHATS
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == CHATS
    print(
        f"\nworker storm: {CHATS} chats started and closed in {closed_s:.1f} s, {CHATS} "
        f"emails in {sent_s:.1f} s; {len(inbox.dropped)} refused mid-send; {'; '.join(events)}"
    )
