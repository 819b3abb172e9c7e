"""Drill: a Celery worker storm.

1,000 chats whose customers asked for their transcript close through the real service (each
close writes a pending Delivery row and queues `delivery_send` after commit) while a prefork
Celery worker sends the emails to an SMTP sink on loopback. Meanwhile the worker is SIGKILLed
whole (main process and pool children) several times, each time in the middle of sending an
email, and started again; and the broker, a Redis of the drill's own that keeps its queue on
disk (append-only file), is shut down and started again once. Exactly 1,000 emails must
arrive, one per chat, none twice, and every Delivery row must end sent.

Where a kill lands. A worker killed after the SMTP server accepted an email but before its
transaction recorded it would send that email again when the task is redelivered: no system
can make an SMTP send and a database commit one atomic step, and the product's answer is the
stored Message-ID that every retry reuses (mail clients drop the copy). The drill therefore
kills while the sink holds at least one email's DATA unanswered (the sender waits for the
"250"), and only once every email the sink accepted is recorded sent in the database: each
kill interrupts a send, and none lands in that window, so a second copy would be a bug.

Bounded: every wait has a deadline and fails with the progress so far (emails, held sends,
Delivery states, the broker's queue, the worker's log); the run fails as soon as no email
arrives for STALL_SECONDS.
"""

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from django.db.models import Count
from django.utils import timezone

from chat import services as chat_services
from chat.models import Chat, Message
from chat.services import Participant
from helpdesk.celery import app as celery_app
from helpdesk.models import Customer
from tests.conftest import free_port, require
from tests.factories import AgentFactory, TopicFactory
from tests.integration.drills.conftest import REDIS_SERVER, PrivateRedis
from tests.transcripts.integration.conftest import Workers, queueing_to, worker_env
from transcripts.models import Delivery

# Alone on the machine (no test runs in another xdist worker meanwhile): the time bounds below
# assume its two cores for the worker, this process and PostgreSQL.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.exclusive,
]

CHATS = 1000
# Agents the chats are shared between.
AGENTS = 10
# Pool children of each worker (one per core).
CONCURRENCY = 2
# A kill of the whole worker once this many emails arrived (then a new worker starts) ...
KILL_AT = (120, 320, 560, 780)
# ... and the broker's clean shutdown and restart once, between two kills.
BROKER_RESTART_AT = 440
# Chats closed ahead of the emails that arrived: the closes go on through the whole storm.
CLOSE_AHEAD = 150
CLOSE_BATCH = 25
# While a kill waits for a send to interrupt, chats keep closing a few at a time.
KILL_CLOSE_BATCH = 2
# The broker gives a message back this long after a worker took it without acknowledging it
# (the killed workers' tasks), looking for such messages every second.
VISIBILITY_SECONDS = 3
# Bounds, never assertions on speed: no new email for this long is a stall, ...
STALL_SECONDS = 45.0
# ... a kill waits this long for a send to interrupt, and the whole drill this long.
HOLD_SECONDS = 30.0
DRILL_SECONDS = 240.0

WORKER_ARGV = [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=prefork"]
WORKER_ARGV += ["-c", str(CONCURRENCY), "-l", "info"]
WORKER_ARGV += ["--without-mingle", "--without-gossip", "--without-heartbeat"]


def address(index: int) -> str:
    return f"storm-{index}@example.com"


@dataclass
class StormInbox:
    """aiosmtpd handler: accepts every email with a 250, except while a kill is prepared
    (`hold()`): then each DATA is held unanswered (its sender waits) until `release()`, and
    refused with a 451, never accepted (its sender was killed meanwhile)."""

    accepted: list[tuple[str, str]] = field(default_factory=list)  # (recipient, Message-ID)
    dropped: list[str] = field(default_factory=list)
    holding: int = 0
    gate: threading.Event | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipient = envelope.rcpt_tos[0]
        gate = self.gate
        if gate is not None:
            with self.lock:
                self.holding += 1
            try:
                while not gate.is_set():
                    await asyncio.sleep(0.02)
            finally:  # released, or cancelled as the killed sender's connection dropped
                with self.lock:
                    self.holding -= 1
                    self.dropped.append(recipient)
            return "451 4.3.0 Not accepted, try again"
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.lock:
            self.accepted.append((recipient, str(headers.get("Message-ID", "")).strip()))
        return "250 OK"

    def hold(self) -> None:
        self.gate = threading.Event()

    def release(self) -> None:
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.set()

    def recipients(self) -> set[str]:
        with self.lock:
            return {recipient for recipient, _ in self.accepted}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis of the drill's own that keeps its queue across a restart (append-only file)."""
    require(Path(REDIS_SERVER).exists(), f"redis-server at {REDIS_SERVER}")
    folder = tmp_path / "broker"
    folder.mkdir()
    server = PrivateRedis(port=free_port(), folder=folder, persistent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sink() -> Iterator[tuple[StormInbox, int]]:
    # aiosmtpd logs every command at INFO: thousands of lines nobody reads.
    mail_log = logging.getLogger("mail.log")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    inbox = StormInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    inbox.release()
    controller.stop()
    mail_log.setLevel(level)


@pytest.fixture
def workers(
    transactional_db: None,
    broker: PrivateRedis,
    sink: tuple[StormInbox, int],
    tmp_path: Path,
    settings: Any,
) -> Iterator[Workers]:
    """Workers on this test's database, the private broker and the sink; this process queues
    to the same broker. Every worker is gone before the database is flushed."""
    _, smtp_port = sink
    env = {
        **worker_env(redis_url=broker.url(), smtp_port=smtp_port, tmp_path=tmp_path),
        "HELPDESK_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
        "HELPDESK_CELERY_RESTORE_INTERVAL": "1",
        "HELPDESK_CELERY_RESTORE_THROTTLE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    # The closes publish their frames to nobody: no shared Redis in this process's way.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with queueing_to(broker.url(), settings):
        running = Workers(WORKER_ARGV, env, tmp_path)
        try:
            yield running
        finally:
            running.stop_all()


def make_chats(count: int) -> list[int]:
    """`count` active chats, each with its customer's first message, for customers who gave
    an address (storm-<index>@example.com) and asked for the transcript. Written in bulk: the
    drill is about what follows their close. Active rather than queued: closing a queued chat
    also tells every chat still queued behind it where it stands (routing), which would make
    1,000 closes quadratic and the drill about that instead."""
    topic = TopicFactory(slug="storm", name="Storm")
    agents = [AgentFactory() for _ in range(AGENTS)]
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(name=f"Storm Customer {i}", email=address(i), consent_transcript=True)
        for i in range(count)
    )
    chats = Chat.objects.bulk_create(
        Chat(
            topic=topic,
            customer=customer,
            agent=agents[i % AGENTS],
            status=Chat.Status.ACTIVE,
            queued_at=now,
            assigned_at=now,
            awaiting_reply_since=now,
            last_seq=1,
        )
        for i, customer in enumerate(customers)
    )
    Message.objects.bulk_create(
        Message(chat=chat, seq=1, kind=Message.Kind.CUSTOMER, body=f"Question {i}")
        for i, chat in enumerate(chats)
    )
    return [chat.pk for chat in chats]


class Storm:
    """The drill's one thread: closes chats, kills and restarts workers, restarts the broker,
    and watches the emails arrive, every wait bounded."""

    def __init__(
        self,
        *,
        chat_ids: list[int],
        inbox: StormInbox,
        workers: Workers,
        broker: PrivateRedis,
    ) -> None:
        self.chat_ids = chat_ids
        self.inbox = inbox
        self.workers = workers
        self.broker = broker
        self.closed = 0
        self.started = time.monotonic()
        self.events: list[str] = []
        # The log tails of workers that exited by themselves (started again by `supervise`).
        self.exits: list[str] = []
        self.last_count = 0
        self.last_progress = time.monotonic()
        self.queue = celery_app.conf.task_default_queue

    # --- Watching ------------------------------------------------------------------------------

    def received(self) -> int:
        return len(self.inbox.accepted)

    def report(self) -> str:
        states = dict(
            Delivery.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
        )
        try:
            with self.broker_client() as client:
                queued = client.llen(self.queue)
                unacked = client.hlen("unacked")
                mutex = client.exists("unacked_mutex")
            broker = f"queued {queued}, unacked {unacked}, restore lock held {bool(mutex)}"
        except redis.RedisError as exc:
            broker = f"unreachable ({exc!r})"
        worker = self.workers.current if self.workers.processes else None
        alive = worker is not None and worker.poll() is None
        return (
            f"after {time.monotonic() - self.started:.1f} s: {self.closed}/{len(self.chat_ids)} "
            f"chats closed, {self.received()} emails accepted, {len(self.inbox.dropped)} "
            f"refused mid-send, {self.inbox.holding} held now; deliveries {states}; broker "
            f"{broker}; worker #{len(self.workers.processes) - 1} alive {alive}; events "
            f"{self.events}\n--- worker log ---\n{self.workers.log(chars=2500)}"
        )

    def check(self, what: str) -> None:
        """Fails on a stall (no new email for STALL_SECONDS) or past the drill's bound; starts
        a worker again if the current one died by itself."""
        self.supervise()
        now = time.monotonic()
        count = self.received()
        if count != self.last_count:
            self.last_count, self.last_progress = count, now
        elif now - self.last_progress > STALL_SECONDS:
            raise AssertionError(
                f"stalled: no email for {STALL_SECONDS:.0f} s while {what}; {self.report()}"
            )
        if now - self.started > DRILL_SECONDS:
            raise AssertionError(f"over {DRILL_SECONDS:.0f} s while {what}; {self.report()}")

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout:.0f} s; {self.report()}")
            self.check(f"waiting for {what}")
            time.sleep(0.02)

    def supervise(self) -> None:
        """What production's process supervisor does (docs/transcripts.md): a worker that exited
        without being killed here is started again. kombu can take a worker down while it
        reconnects after a broker restart (an ack on a channel it closed: `AttributeError:
        'NoneType' object has no attribute 'hostname'`, seen once in CI); what this drill
        proves is that no email is lost or sent twice even then."""
        worker = self.workers.current
        if worker.poll() is None:
            return
        number = len(self.workers.processes) - 1
        self.note(f"worker #{number} exited by itself (code {worker.returncode})")
        self.exits.append(self.workers.log(chars=1500))
        with contextlib.suppress(redis.RedisError):  # the broker may be restarting
            self.free_restore_lock()
        self.workers.start()

    def note(self, event: str) -> None:
        self.events.append(f"{event} at {self.received()} emails, {self.elapsed()}")
        print(f"celery storm: {self.events[-1]}")

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

    # --- Acting --------------------------------------------------------------------------------

    def close_some(self, count: int = CLOSE_BATCH) -> None:
        for chat_id in self.chat_ids[self.closed : self.closed + count]:
            chat_services.chat_close(chat_id=chat_id, by=Participant.customer())
            self.closed += 1

    def kill_mid_send(self) -> None:
        """SIGKILL the whole worker while it waits for the sink's answer to an email, once
        every email accepted so far is recorded sent (no kill lands between an accepted send
        and its commit), then start a new worker."""
        self.inbox.hold()

        def ready() -> bool:
            if self.workers.current.poll() is not None:
                return False  # `check` starts another (`supervise`)
            if self.inbox.holding < 1:
                # The worker may have caught up with the closes: give it something to send.
                if self.closed - self.received() < CLOSE_AHEAD:
                    self.close_some(KILL_CLOSE_BATCH)
                return False
            recorded = Delivery.objects.filter(status=Delivery.Status.SENT).count()
            return recorded == len(self.inbox.recipients())

        self.wait(ready, "send in flight to interrupt", HOLD_SECONDS)
        held = self.inbox.holding
        self.workers.kill()
        self.free_restore_lock()
        self.inbox.release()
        self.note(f"worker #{len(self.workers.processes) - 1} killed with {held} sends held")
        self.workers.start()

    def restart_broker(self) -> None:
        """A clean shutdown (the append-only file keeps the queue and the unacked index) and
        a start on the same port; the worker and this process reconnect by themselves."""
        self.broker.restart(kill=False)
        self.free_restore_lock()
        self.note("broker restarted")

    def free_restore_lock(self) -> None:
        """Kombu's workers take turns giving back unacknowledged messages under a lock in
        Redis that expires after 5 minutes. A worker killed while holding it (or whose broker
        went away meanwhile) never releases it, and no message would be given back for those
        5 minutes (in production, with a 1 h visibility timeout, a small delay; here, a
        stall). Nobody holds it legitimately now: the worker is dead or not yet reconnected;
        and two workers restoring at once would still give each message back once."""
        with self.broker_client() as client:
            client.delete("unacked_mutex")

    def broker_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.broker.url(), socket_timeout=5)

    def broker_reached(self) -> bool:
        with self.broker_client() as client:
            messages = client.llen(self.queue) + client.hlen("unacked")
        return messages > 0 or self.received() > 0

    def broker_idle(self) -> bool:
        """Nothing left to deliver: no message queued, none held unacknowledged by a worker."""
        with self.broker_client() as client:
            return client.llen(self.queue) == 0 and client.hlen("unacked") == 0


def test_worker_killed_repeatedly_and_broker_restarted_while_1000_chats_close(
    postgres: None,
    workers: Workers,
    broker: PrivateRedis,
    sink: tuple[StormInbox, int],
) -> None:
    inbox, _ = sink
    chat_ids = make_chats(CHATS)
    storm = Storm(chat_ids=chat_ids, inbox=inbox, workers=workers, broker=broker)
    workers.start()
    storm.close_some()
    # The tasks go to the drill's broker: Celery keeps publishing to the broker of its first
    # publish unless told to forget it (queueing_to does), whatever broker_url says now.
    storm.wait(storm.broker_reached, "task on the drill's broker", HOLD_SECONDS)
    kills = list(KILL_AT)
    restart_due = True

    # Until every chat is closed and every customer has an email (a duplicate would not count).
    while storm.closed < CHATS or len(inbox.recipients()) < CHATS:
        received = storm.received()
        if kills and received >= kills[0]:
            kills.pop(0)
            storm.kill_mid_send()
        elif restart_due and received >= BROKER_RESTART_AT:
            restart_due = False
            storm.restart_broker()
        elif storm.closed < CHATS and storm.closed - received < CLOSE_AHEAD:
            storm.close_some()
        else:
            time.sleep(0.02)
        storm.check("the emails arrive")
    assert not kills, f"kills left undone: {kills}"
    assert not restart_due, "the broker was never restarted"
    storm.note("all emails in")

    # Every delivery recorded, and nothing left that could still be delivered (a message
    # given back after the restart or a kill finds its row sent and sends nothing).
    storm.wait(
        lambda: not Delivery.objects.exclude(status=Delivery.Status.SENT).exists(),
        "delivery left unsent",
        STALL_SECONDS,
    )
    storm.wait(storm.broker_idle, "idle broker", STALL_SECONDS)

    by_recipient = Counter(recipient for recipient, _ in inbox.accepted)
    twice = sorted(recipient for recipient, n in by_recipient.items() if n > 1)
    assert not twice, f"{len(twice)} customers got their transcript twice: {twice[:10]}"
    assert set(by_recipient) == {address(i) for i in range(CHATS)}
    assert len(inbox.accepted) == CHATS
    deliveries = {
        delivery.to_email: delivery
        for delivery in Delivery.objects.filter(kind=Delivery.Kind.TRANSCRIPT)
    }
    assert len(deliveries) == CHATS
    assert all(delivery.status == Delivery.Status.SENT for delivery in deliveries.values())
    # Each email is its delivery's, with the Message-ID stored before the first attempt.
    wrong = [
        (message_id, deliveries[r].message_id)
        for r, message_id in inbox.accepted
        if deliveries[r].message_id != message_id
    ]
    assert not wrong, f"emails whose Message-ID is not their delivery's: {wrong[:5]}"
    # Every kill interrupted at least one send, and each of those emails was sent once later.
    assert len(inbox.dropped) >= len(KILL_AT)
    retried = Counter(delivery.attempts for delivery in deliveries.values())
    storm.note(
        f"done: {len(inbox.accepted)} emails, {len(inbox.dropped)} sends interrupted "
        f"({sorted(set(inbox.dropped))[:8]}), attempts per delivery {dict(retried)}, "
        f"{len(workers.processes)} workers, {len(storm.exits)} of them exited by themselves"
    )
