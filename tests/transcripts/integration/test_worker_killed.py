"""A worker killed mid-send (main process and pool child, SIGKILL) leads to exactly one email
after a new worker starts: the broker gives the unacked task back (acks_late, after the Redis
visibility timeout, shortened here) and the row, still pending, is sent then."""

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from chat import services as chat_services
from chat.services import Participant
from tests.conftest import free_port
from tests.helpers import active_chat
from tests.transcripts.integration.conftest import Workers, queueing_to, wait_for, worker_env
from transcripts.models import Delivery

# Alone (no test runs in another xdist worker meanwhile): its workers give back any message
# unacked for 2 s, and the broker keeps one unacked index for every queue of a Redis database.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.exclusive,
]

# Seconds before Redis gives an unacked message back, in the test workers only.
VISIBILITY_SECONDS = 2
# A prefork worker: a main process and one pool child, both to be killed.
WORKER_ARGV = [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=prefork"]
WORKER_ARGV += ["-c", "1", "-l", "info", "--without-mingle", "--without-gossip"]


class HoldingInbox:
    """Accepts a message only when its DATA completes with a 250. While `hold` is set, a
    message is held before the answer (the client waits for it); a held message is then
    refused with a 451, never accepted: its sender was killed waiting."""

    def __init__(self) -> None:
        self.accepted: list[bytes] = []
        self.dropped: list[bytes] = []
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold.is_set():
            self.holding.set()
            try:
                while not self.release.is_set():
                    await asyncio.sleep(0.05)
            finally:  # released, or cancelled as the client's connection dropped
                self.dropped.append(envelope.content)
            return "451 4.3.0 Not accepted, try again"
        self.accepted.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_holding() -> Iterator[tuple[HoldingInbox, int]]:
    inbox = HoldingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    inbox.release.set()
    controller.stop()


@pytest.fixture
def workers(
    redis_url: str, smtp_holding: tuple[HoldingInbox, int], tmp_path: Path, settings: Any
) -> Iterator[Workers]:
    """Workers on this test's database, broker and SMTP server; this process queues to the
    same broker (not eagerly). Redis gives unacked messages back after VISIBILITY_SECONDS and
    looks for them every second."""
    _, smtp_port = smtp_holding
    env = {
        **worker_env(redis_url=redis_url, smtp_port=smtp_port, tmp_path=tmp_path),
        "HELPDESK_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
        "HELPDESK_CELERY_RESTORE_INTERVAL": "1",
        "HELPDESK_CELERY_RESTORE_THROTTLE": "1",
    }
    with queueing_to(redis_url, settings):
        running = Workers(WORKER_ARGV, env, tmp_path)
        yield running
        running.stop_all()


def test_a_worker_killed_mid_send_leads_to_exactly_one_email(
    workers: Workers, smtp_holding: tuple[HoldingInbox, int]
) -> None:
    inbox, _ = smtp_holding
    inbox.hold.set()
    first = workers.start()
    chat = active_chat(email="ana@example.com")
    chat.customer.consent_transcript = True
    chat.customer.save()

    chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())

    # The worker sent the whole message and waits for the server's answer: kill it all.
    if not inbox.holding.wait(timeout=30):
        raise AssertionError(f"the worker never reached the send:\n{workers.log(0)}")
    workers.kill(first)
    inbox.hold.clear()
    inbox.release.set()
    wait_for(lambda: len(inbox.dropped) == 1, "the held message to be refused")
    delivery = Delivery.objects.get(chat=chat)
    assert delivery.status == Delivery.Status.PENDING  # the send's transaction never committed
    assert delivery.attempts == 0
    assert inbox.accepted == []

    workers.start()
    try:
        wait_for(
            lambda: Delivery.objects.filter(chat=chat, status=Delivery.Status.SENT).exists(),
            "the redelivered task to send the transcript",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.log(1)}") from None
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert len(inbox.accepted) == 1
    # The same Message-ID as the half-sent one: a client holding both would drop one.
    assert delivery.message_id.encode() in inbox.accepted[0]
    assert delivery.message_id.encode() in inbox.dropped[0]
    # No second copy follows: a duplicate broker message would come within the next sweeps.
    time.sleep(VISIBILITY_SECONDS + 1.5)
    assert len(inbox.accepted) == 1
