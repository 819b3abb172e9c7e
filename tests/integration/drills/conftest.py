"""Private services for the fault drills: a drill kills and restarts them, so it never touches
the shared Redis or PostgreSQL that the other tests (and xdist workers) use.

- `private_redis`: a `redis-server` of the test's own on a free port, stopped (SIGKILL, or a
  clean SHUTDOWN that keeps its append-only file) and started again on the same port.
- `private_postgres`: a PostgreSQL cluster of the test's own (initdb, ~3 s here), stopped
  (`-m immediate`: a crash) and started again on the same port and data directory.
"""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.conftest import free_port, require
from tests.integration.conftest import WAIT_SECONDS, Frame, WsClient, highest_contiguous

# A bound for a service to come up or go away, never an assertion on speed.
SERVICE_WAIT_SECONDS = 20.0

# As static/chat/socket.js: a gap often heals by itself (out-of-order frames) before a resume.
GAP_GRACE_SECONDS = 0.4

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
PG_BIN = Path(os.environ.get("HELPDESK_PG_BIN", "/usr/lib/postgresql/15/bin"))


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate: object, what: str, timeout: float = SERVICE_WAIT_SECONDS) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class PrivateRedis:
    """One redis-server process at a time on a fixed port and directory."""

    port: int
    folder: Path
    persistent: bool = False
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        # A persistent broker keeps its queue across a restart, as a production one must.
        durability = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += [*durability, "--dir", str(self.folder), "--protected-mode", "no"]
        log = (self.folder / f"redis-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        wait_until(self._ready, f"redis-server on port {self.port}")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"redis-server exited: {self.process.returncode}")
        return port_open(self.port)

    def stop(self, *, kill: bool = True) -> None:
        """SIGKILL (a crash) or SIGTERM (a clean shutdown that flushes the append-only file)."""
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=SERVICE_WAIT_SECONDS)
        wait_until(lambda: not port_open(self.port), f"port {self.port} to close")

    def restart(self, *, kill: bool = True) -> None:
        self.stop(kill=kill)
        self.start()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A running redis-server of this test's own (no persistence)."""
    require(Path(REDIS_SERVER).exists(), f"redis-server at {REDIS_SERVER}")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(port=free_port(), folder=folder)
    server.start()
    yield server
    server.stop()


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of its own, run as the `postgres` user when the tests run as root
    (PostgreSQL refuses to run as root)."""

    folder: Path
    port: int
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.folder / "postgres.log"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def run(self, program: str, *args: str) -> None:
        argv = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="postgres")
        # -N: no fsync; a crash drill needs no durability against power loss.
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=50"
        )
        self.run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log_path), "-w", "start"
        )
        wait_until(lambda: port_open(self.port), f"PostgreSQL on port {self.port}")

    def stop(self, *, mode: str = "immediate") -> None:
        """`immediate`: every backend dies at once, like a crash; `fast`: a clean stop."""
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        wait_until(lambda: not port_open(self.port), f"port {self.port} to close")

    def psql_argv(self, database: str) -> list[str]:
        return [
            "psql",
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
        ]

    def psql(self, sql: str, *, database: str = "postgres") -> None:
        subprocess.run(
            [*self.psql_argv(database), "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True,
            capture_output=True,
            timeout=60,
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running PostgreSQL cluster of this test's own, removed at the end."""
    require((PG_BIN / "initdb").exists(), f"PostgreSQL's initdb in {PG_BIN}")
    require(shutil.which("psql") is not None, "psql")
    # Not under pytest's tmp_path, whose parents only root may enter: the postgres user runs it.
    folder = Path(tempfile.mkdtemp(prefix="drills-pg-"))
    cluster = PrivatePostgres(folder=folder, port=free_port())
    cluster.init()
    cluster.start()
    yield cluster
    if port_open(cluster.port):
        cluster.stop(mode="immediate")
    shutil.rmtree(folder, ignore_errors=True)


# --- A client that follows docs/protocol.md's delivery rules --------------------------------


class ResumingClient:
    """One participant of a chat, as docs/protocol.md asks clients to behave: keeps messages by
    `seq`, resumes from its highest contiguous seq after a reconnect or on a gap, resends every
    unacked message with the same `client_msg_id` (after a reconnect or a retryable error),
    and reconnects to the next of `urls` when its socket closes.

    Built on WsClient: each connection is one WsClient, read by a small polling loop."""

    RETRYABLE = frozenset({"internal_error", "unavailable", "rate_limited"})

    def __init__(
        self,
        urls: list[str],
        *,
        chat_id: int,
        name: str,
        session: str | None = None,
        origin: str | None = None,
    ) -> None:
        self.urls = urls
        self.chat_id = chat_id
        self.name = name
        self.session = session
        self.origin = origin
        self.is_agent = session is not None
        self.conn: WsClient | None = None
        self.url_index = 0
        self.read = 0
        # Every message frame received, by seq, and how often each seq arrived.
        self.messages: dict[int, Frame] = {}
        self.arrivals: Counter[int] = Counter()
        self.unacked: dict[str, str] = {}
        self.acks: dict[str, int] = {}
        self.sent_order: list[str] = []
        self.errors: list[Frame] = []
        self.connections = 0
        self.close_codes: list[int | None] = []
        self.resuming = False
        self._resend_due = False
        self._gap_since: float | None = None
        self._more_due = False
        self._task: asyncio.Task[None] | None = None

    @property
    def highest(self) -> int:
        return highest_contiguous(set(self.messages))

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.create_task(self._loop())

    async def _connect(self) -> None:
        last_error: Exception | None = None
        deadline = time.monotonic() + SERVICE_WAIT_SECONDS
        while time.monotonic() < deadline:
            url = self.urls[self.url_index % len(self.urls)]
            try:
                self.conn = await WsClient.connect(
                    url, origin=self.origin, session=self.session, name=self.name, open_timeout=5
                )
            except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                last_error = exc
                self.url_index += 1  # that process is gone: try the next one
                await asyncio.sleep(0.2)
                continue
            self.read = 0
            self.connections += 1
            # Catch up first, then send again what was never acked.
            await self._resume()
            self._resend_due = True
            return
        raise AssertionError(f"{self.name}: could not reconnect: {last_error!r}")

    async def _resume(self) -> None:
        assert self.conn is not None
        frame: Frame = {"type": "resume", "after_seq": self.highest}
        if self.is_agent:
            frame["chat"] = self.chat_id
        self.resuming = True
        await self.conn.send(**frame)

    async def _send_message(self, client_msg_id: str, body: str) -> None:
        assert self.conn is not None
        frame: Frame = {"type": "message", "body": body, "client_msg_id": client_msg_id}
        if self.is_agent:
            frame["chat"] = self.chat_id
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.conn.send(**frame)

    async def send(self, client_msg_id: str, body: str) -> None:
        self.unacked[client_msg_id] = body
        self.sent_order.append(client_msg_id)
        await self._send_message(client_msg_id, body)

    def _take(self, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "message" and frame["chat"] == self.chat_id:
            self.arrivals[frame["seq"]] += 1
            self.messages[frame["seq"]] = frame
        elif kind == "resumed" and frame["chat"] == self.chat_id:
            self.resuming = False
            if frame["more"]:
                self._more_due = True
        elif kind == "ack":
            self.acks[frame["client_msg_id"]] = frame["seq"]
            self.unacked.pop(frame["client_msg_id"], None)
        elif kind == "error":
            self.errors.append(frame)
            if frame["code"] in self.RETRYABLE:
                self._resend_due = True

    async def _heal_gap(self) -> None:
        """Resume when a gap below the highest seq received outlives GAP_GRACE_SECONDS
        (frames published by two processes often arrive out of order, and heal by themselves)."""
        if not self.messages or max(self.messages) == self.highest or self.resuming:
            self._gap_since = None
            return
        now = time.monotonic()
        if self._gap_since is None:
            self._gap_since = now
        elif now - self._gap_since > GAP_GRACE_SECONDS:
            self._gap_since = None
            await self._resume()

    async def _loop(self) -> None:
        while True:
            conn = self.conn
            assert conn is not None
            while self.read < len(conn.frames):
                self._take(conn.frames[self.read])
                self.read += 1
            if conn.closed.is_set():
                self.close_codes.append(conn.ws.close_code)
                await self._connect()
                continue
            if self._more_due:
                self._more_due = False
                await self._resume()
            await self._heal_gap()
            if self._resend_due:
                self._resend_due = False
                for client_msg_id, body in list(self.unacked.items()):
                    await self._send_message(client_msg_id, body)
            await asyncio.sleep(0.05)

    async def wait_until(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not predicate():
            if self._task is not None and self._task.done():
                self._task.result()  # raises what stopped the client
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: no {what} within {WAIT_SECONDS} s; unacked {self.unacked}, "
                    f"highest {self.highest}, errors {self.errors[-3:]}"
                )
            await asyncio.sleep(0.05)

    async def wait_acked(self) -> None:
        await self.wait_until(lambda: not self.unacked, "ack of every message")

    async def wait_seen(self, last_seq: int) -> None:
        await self.wait_until(lambda: self.highest >= last_seq, f"messages up to #{last_seq}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.conn is not None:
            await self.conn.close()


async def customer_and_agent(
    customer_urls: list[str],
    console_url: str,
    *,
    chat_id: int,
    session: str,
    origin: str,
    customer_name: str,
) -> tuple["ResumingClient", "ResumingClient"]:
    """The chat's customer and an agent (on the console at `console_url`) who has taken it."""
    customer = ResumingClient(customer_urls, chat_id=chat_id, name=customer_name)
    agent = ResumingClient(
        [console_url], chat_id=chat_id, name="agent@B", session=session, origin=origin
    )
    await customer.start()
    await agent.start()
    assert agent.conn is not None
    await agent.conn.send(type="take", chat=chat_id)
    await agent.conn.wait_type("chat", id=chat_id, status="active")
    return customer, agent


@dataclass
class TwoServerChat:
    """A chat started through server A's public API, with an agent's session for server B."""

    server_a: Any
    server_b: Any
    chat: dict[str, Any]
    session: str


def two_servers_and_a_chat(
    live_server_factory: Callable[..., Any], live_env: dict[str, str]
) -> TwoServerChat:
    from tests.factories import AgentFactory, TopicFactory
    from tests.integration.conftest import session_cookie_for
    from tests.integration.test_two_processes import post_json

    session = session_cookie_for(AgentFactory())
    topic = TopicFactory(slug="returns", name="Returns")
    server_a = live_server_factory(env=live_env)
    server_b = live_server_factory(env=live_env)
    status, started = post_json(
        f"{server_a.url}/api/v1/public/chats/",
        {"name": "Ana", "email": "ana@example.com", "topic": topic.slug, "message": "Hi"},
    )
    assert status == 201, started
    return TwoServerChat(server_a, server_b, started, session)
