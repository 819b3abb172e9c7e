"""A real Celery worker on the Redis broker and a real SMTP server (aiosmtpd) on loopback, for
the transcripts' integration tests."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import ROOT, free_port, test_database_url
from transcripts import tasks

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
def smtp_port() -> int:
    """The port the worker sends to; nothing listens on it until an SMTP server is started."""
    return free_port()


@pytest.fixture
def smtp_server(smtp_port: int) -> Iterator[Callable[[], Inbox]]:
    """Starts the SMTP server on `smtp_port` when called (a test may start it late)."""
    controllers: list[Controller] = []

    def start() -> Inbox:
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp(smtp_server: Callable[[], Inbox], smtp_port: int) -> tuple[Inbox, int]:
    """An SMTP server listening from the start."""
    return smtp_server(), smtp_port


def worker_env(*, redis_url: str, smtp_port: int, tmp_path: Path) -> dict[str, str]:
    """The environment of a test worker: this test's database, broker and SMTP port, manual
    routing, and retries after ~1 s instead of ~10 s."""
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "DEFAULT_FROM_EMAIL": "Acme Help <support@acme.test>",
        "HELPDESK_VAR_DIR": str(tmp_path / "var"),
        "HELPDESK_ROUTING_POLICY": "routing.policies.ManualPolicy",
        "HELPDESK_MAIL_RETRY_BASE_SECONDS": "1",
    }


def forget_broker_connections() -> None:
    """Celery keeps publishing to the broker of its first publish (the app's connection and
    producer pools are made once), whatever `broker_url` says later: forget them, so the next
    task goes to the broker configured now. Without this, a test queueing to a private Redis
    after another test published to the shared one sends its tasks to the shared one."""
    app = tasks.delivery_send.app
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def queueing_to(redis_url: str, settings: Any) -> Iterator[None]:
    """This process queues tasks to the workers' broker instead of running them eagerly."""
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"
    conf = tasks.delivery_send.app.conf
    before = (conf.task_always_eager, conf.broker_url)
    conf.update(task_always_eager=False, broker_url=redis_url)
    forget_broker_connections()
    try:
        yield
    finally:
        conf.update(task_always_eager=before[0], broker_url=before[1])
        forget_broker_connections()


@pytest.fixture
def worker(
    redis_url: str, smtp_port: int, tmp_path: Path, settings: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """`celery -A helpdesk worker` on this test's database, broker and SMTP port."""
    env = worker_env(redis_url=redis_url, smtp_port=smtp_port, tmp_path=tmp_path)
    log = (tmp_path / "worker.log").open("wb")
    with queueing_to(redis_url, settings):
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
        yield process
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Workers:
    """`celery -A helpdesk worker` processes started with `argv`, each in its own process
    group, so that a kill takes the main process and its pool children together."""

    def __init__(self, argv: list[str], env: dict[str, str], folder: Path) -> None:
        self.argv = argv
        self.env = env
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def current(self) -> subprocess.Popen[bytes]:
        return self.processes[-1]

    def start(self) -> subprocess.Popen[bytes]:
        with (self.folder / f"worker-{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes] | None = None) -> None:
        """SIGKILL a worker's whole group (the newest one by default)."""
        process = process or self.current
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def log(self, index: int = -1, chars: int = 3000) -> str:
        if not self.processes:
            return "(no worker started)"
        index = index % len(self.processes)
        return (self.folder / f"worker-{index}.log").read_text(errors="replace")[-chars:]

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
