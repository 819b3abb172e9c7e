"""Webhooks with a real Celery worker on the Redis broker, delivering to a real HTTP server on
127.0.0.1: the receiver refuses the first two attempts with a 500, the worker retries with its
countdown (shortened here to 1 s) and the third is accepted; every request verifies with the
snippet of docs/webhooks.md and carries the same delivery id and body."""

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpdesk import tasks
from helpdesk.models import WebhookDelivery
from tests.conftest import ROOT, test_database_url
from tests.factories import WebhookSubscriptionFactory
from tests.helpers import start_chat
from tests.webhook_receiver import WebhookReceiver, doc_verifier, receivers_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A bound for waiting on processes and the network, never an assertion on speed.
WAIT_SECONDS = 60.0


def wait_for(predicate: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def queueing_to(redis_url: str) -> Iterator[None]:
    """This process queues tasks to the worker's broker instead of running them eagerly."""
    conf = tasks.webhook_deliver.app.conf
    before = (conf.task_always_eager, conf.broker_url)
    conf.update(task_always_eager=False, broker_url=redis_url)
    try:
        yield
    finally:
        conf.update(task_always_eager=before[0], broker_url=before[1])


@pytest.fixture
def worker(redis_url: str, tmp_path: Path, settings: Any) -> Iterator[Path]:
    """`celery -A helpdesk worker` on this test's database and broker; returns its log."""
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "HELPDESK_VAR_DIR": str(tmp_path / "var"),
        "HELPDESK_ROUTING_POLICY": "routing.policies.ManualPolicy",
        # The receiver listens on loopback; retries after 1 s instead of 10 s, 30 s, ...
        "HELPDESK_WEBHOOK_ALLOW_PRIVATE": "true",
        "HELPDESK_WEBHOOK_RETRY_DELAYS": "1,1,1,1,1",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log, queueing_to(redis_url):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "helpdesk",
                "worker",
                "--pool=solo",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def webhook_receiver(settings: Any) -> Iterator[Callable[..., WebhookReceiver]]:
    with receivers_running(settings) as start:
        yield start


def test_a_worker_retries_until_the_receiver_accepts(worker: Path, webhook_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver = webhook_receiver([500, 500])
    subscription = WebhookSubscriptionFactory(url=receiver.url, events=["chat.created"])

    chat = start_chat(name="Ana Lima")

    wait_for(
        lambda: WebhookDelivery.objects.filter(status="delivered").exists(),
        "the delivery to be accepted",
        worker,
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.response_code) == (3, 200)
    assert delivery.last_error.count("HTTP 500") == 2
    assert [r.status for r in receiver.requests] == [500, 500, 200]

    verify_webhook = doc_verifier()
    for request in receiver.requests:
        assert verify_webhook(
            subscription.secret,
            request.body,
            request.headers["X-Helpdesk-Timestamp"],
            request.headers["X-Helpdesk-Signature"],
        )
        assert request.headers["X-Helpdesk-Delivery"] == str(delivery.delivery_id)
        assert request.body == receiver.requests[0].body
    body = json.loads(receiver.requests[0].body)
    assert body["event"] == "chat.created" and body["data"]["chat"]["id"] == chat.pk
    # Tampering or another secret does not verify.
    last = receiver.requests[-1]
    stamp, signature = last.headers["X-Helpdesk-Timestamp"], last.headers["X-Helpdesk-Signature"]
    assert not verify_webhook(subscription.secret, last.body + b" ", stamp, signature)
    assert not verify_webhook("whsec_other", last.body, stamp, signature)
    # Delivered once: nothing more arrives (a duplicate would come within the worker's next poll).
    time.sleep(1.5)
    assert len(receiver.requests) == 3
