"""A real Celery worker on the Redis broker and a real SMTP server on loopback: closing a chat
delivers its transcript exactly once."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from chat import services as chat_services
from chat.services import Participant
from tests.conftest import ROOT, free_port, test_database_url
from tests.helpers import active_chat
from transcripts import tasks
from transcripts.models import Delivery

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A bound for waiting on processes and the network, never an assertion on speed.
WAIT_SECONDS = 30.0


class Inbox:
    """aiosmtpd handler keeping every accepted message."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def worker(
    redis_url: str, smtp: tuple[Inbox, int], tmp_path: Path, settings: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """`celery -A helpdesk worker` on this test's database, broker and SMTP server; this process
    queues to the same broker (not eagerly)."""
    _, port = smtp
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"
    conf = tasks.delivery_send.app.conf
    before = (conf.task_always_eager, conf.broker_url)
    conf.update(task_always_eager=False, broker_url=redis_url)
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "DEFAULT_FROM_EMAIL": "Acme Help <support@acme.test>",
        "HELPDESK_VAR_DIR": str(tmp_path / "var"),
        "HELPDESK_ROUTING_POLICY": "routing.policies.ManualPolicy",
    }
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=solo", "-l", "info"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
    conf.update(task_always_eager=before[0], broker_url=before[1])


def test_closing_a_chat_delivers_one_transcript(
    worker: subprocess.Popen[bytes], smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    chat = active_chat(email="ana@example.com")
    chat.customer.consent_transcript = True
    chat.customer.save()

    chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())

    wait_for(
        lambda: Delivery.objects.filter(chat=chat, status=Delivery.Status.SENT).exists(),
        "the transcript to be sent",
    )
    delivery = Delivery.objects.get(chat=chat)
    assert len(inbox.messages) == 1
    assert delivery.message_id.encode() in inbox.messages[0]
    assert delivery.attempts == 1
    # Nothing else arrives (a duplicate would come within the worker's next poll).
    time.sleep(1)
    assert len(inbox.messages) == 1
