"""Shared fixtures: service gating, channel-layer isolation, captured frames, live servers.

Tests that need a real service are marked `integration` (PostgreSQL, Redis, ...) or `browser`
(Playwright + Debian chromium). Outside CI they skip when the service is not configured; with
CI=true they fail, so CI can never pass on tests that did not run.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from django.conf import settings
from django.db import connection

from helpdesk.celery import app as celery_app
from helpdesk.server import daphne_argv
from tests import xdist_isolation

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("HELPDESK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"

# Tasks queued from the tests go to this run's own queue, the one every `celery worker` a test
# starts consumes (CELERY_WORKER_QUEUES, set by tests/xdist_isolation.py).
if os.environ.get("CELERY_WORKER_QUEUES"):
    celery_app.conf.task_default_queue = os.environ["CELERY_WORKER_QUEUES"]


def require(available: bool, what: str) -> None:
    """Skip outside CI, fail in CI, when a real service a test needs is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true but is not available")
    pytest.skip(f"{what} is not configured")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    require(bool(url), "Redis (REDIS_URL)")
    return url


@pytest.fixture
def postgres() -> None:
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")


@pytest.fixture
def chromium() -> str:
    require(Path(CHROMIUM).exists(), f"chromium at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Close connections after every request or consumer call, as Django does by default.

    Kept-alive connections of the consumers' worker thread would otherwise hold the test
    database open and PostgreSQL refuses to drop it at the end of the run.
    """
    from django.db import connections

    connections.settings["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session", autouse=True)
def _close_socket_database_threads(django_db_setup: None) -> Iterator[None]:
    """The sockets' database threads (chat.db_hops) keep their connections open; close them
    before the test database is dropped."""
    yield
    from chat.db_hops import close_pool_connections

    close_pool_connections()


@pytest.fixture(autouse=True)
def _webhook_subscribers_unknown() -> None:
    """Each test starts with a process that has not yet asked which events have webhook
    subscribers (helpdesk.webhooks keeps that for a few seconds): no test sees another's rows,
    and query counts do not depend on the order tests run in."""
    from helpdesk.webhooks import listened_events_forget

    listened_events_forget()


@pytest.fixture(autouse=True)
def _fresh_channel_layers() -> Iterator[None]:
    """Each test gets fresh layer objects, and leaves no groups behind in Redis."""
    channel_layers.backends.clear()
    yield
    layer = get_channel_layer()
    if layer is not None and hasattr(layer, "flush"):
        async_to_sync(layer.flush)()
    channel_layers.backends.clear()


@dataclass
class Published:
    """Frames the services published after commit, as (groups, frame) pairs."""

    calls: list[tuple[list[str], dict[str, Any]]] = field(default_factory=list)

    def frames(
        self, frame_type: str | None = None, group: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            frame
            for groups, frame in self.calls
            if (frame_type is None or frame["type"] == frame_type)
            and (group is None or group in groups)
        ]

    def groups_of(self, frame_type: str) -> list[list[str]]:
        return [groups for groups, frame in self.calls if frame["type"] == frame_type]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    """Record what would reach the channel layer, round-tripped through JSON like the wire."""
    record = Published()

    def fake_publish(*, groups: list[str], frame: dict[str, Any]) -> None:
        record.calls.append((list(groups), json.loads(json.dumps(frame))))

    monkeypatch.setattr("chat.events.publish_now", fake_publish)
    return record


# --- Live servers -------------------------------------------------------------------------------


# Ports come from this process's own block (tests/xdist_isolation.py): never the same in two
# xdist workers, and never one the kernel may hand to an outgoing connection meanwhile.
free_port = xdist_isolation.free_port


def test_database_url() -> str:
    """The URL of the database this test runs on, for a server in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite://{db['NAME']}"  # NAME is absolute: sqlite:///abs/path
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self, *, kill: bool = False) -> None:
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_until_serving(server: LiveServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"daphne exited early:\n{server.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/api/v1/public/topics/", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"daphne did not start:\n{server.log_path.read_text()[-3000:]}")


@pytest.fixture
def live_server_factory(
    transactional_db: None, tmp_path: Path
) -> Iterator[Callable[..., LiveServer]]:
    """Start real daphne processes (websockets included) on this test's database.

    Call it with `port=` to restart a server on the same port (e.g. after a SIGKILL), with
    `env=` to add settings, and with `flags=` to change daphne flags that helpdesk.server sets.
    The test's data must be committed, hence the transactional DB.
    """
    servers: list[LiveServer] = []

    def start(
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        flags: dict[str, str] | None = None,
    ) -> LiveServer:
        port = port or free_port()
        argv = daphne_argv(host="127.0.0.1", port=port)
        for flag, value in (flags or {}).items():
            assert flag in argv, f"helpdesk.server no longer passes {flag}"
            argv[argv.index(flag) + 1] = value
        log_path = tmp_path / f"daphne-{port}-{len(servers)}.log"
        child_env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "DJANGO_DEBUG": "true",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "HELPDESK_VAR_DIR": str(tmp_path / "var"),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        if settings.REDIS_URL:
            child_env["REDIS_URL"] = settings.REDIS_URL
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "daphne", *argv],
                cwd=ROOT,
                env=child_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = LiveServer(process=process, port=port, log_path=log_path)
        servers.append(server)
        _wait_until_serving(server)
        return server

    yield start
    _stop_at_the_end(servers)


# A daphne whose sockets are closed exits within 1-2 s of SIGTERM. One whose shutdown is stuck
# (a consumer's database thread waiting on the stopped event loop) would never exit: the test is
# over, so it is killed after this grace rather than after stop()'s 10 s.
TEARDOWN_GRACE_SECONDS = 5.0


def _stop_at_the_end(servers: list[LiveServer]) -> None:
    """Stop a test's servers together, all of them gone before its database is flushed."""
    running = [server for server in servers if server.process.poll() is None]
    for server in running:
        server.process.terminate()
    deadline = time.monotonic() + TEARDOWN_GRACE_SECONDS
    for server in running:
        try:
            server.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture
def live_server_url(live_server_factory: Callable[..., LiveServer]) -> str:
    return live_server_factory().url


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    chromium_state = "present" if shutil.which(CHROMIUM) or Path(CHROMIUM).exists() else "absent"
    return [f"helpdesk: database={db} channel_layer={layer} ci={IN_CI} chromium={chromium_state}"]


@pytest.fixture
async def sockets() -> AsyncIterator[Any]:
    """Websockets opened on the real ASGI application, all closed at the end of the test."""
    from tests.chat.consumers.wsutil import Sockets

    opened = Sockets()
    yield opened
    await opened.close_all()
