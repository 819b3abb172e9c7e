"""Per-worker isolation for pytest-xdist: `make test` runs the suite on every core.

pytest-django already gives each xdist worker its own test database (`<name>_gw0`, `_gw1`, ...).
Everything else a test writes outside its database is made per worker here:

- `HELPDESK_REDIS_PREFIX` becomes `<prefix>-gwN`: channel-layer groups (pub/sub channel names
  are global to a Redis server, and chat #1 exists in every worker's database) and cache keys
  follow it, in this process and in every daphne or Celery process a test starts (they inherit
  the environment);
- `CELERY_WORKER_QUEUES` (read by `celery worker` as its `-Q`) is `<prefix>.tests`, in every
  run, and tests/conftest.py queues this process's tasks there: a Celery worker a test starts
  takes only the tasks of its own run and worker, never those of a run or xdist worker sharing
  the Redis (for rows of another test database), nor the ones left in the default queue;
- `HELPDESK_VAR_DIR` becomes `<var>/xdist-gwN`: the SQLite test database, the mail folder and
  the static root of the embedded defaults;
- TCP ports for live servers and SMTP sinks (`free_port`) come from a block of the worker's
  own, below the kernel's ephemeral range (see `free_port`).

A test marked `exclusive` (a load test, whose figures and waits assume the machine to itself)
runs while no test runs in any other worker: the others finish their current test and wait.

The environment must be set before pytest-django imports the settings, which happens before any
conftest.py is loaded: this module is a plugin loaded with `-p` (pyproject.toml's addopts). In a
run without xdist it changes no setting.
"""

import contextlib
import os
import random
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

try:
    import fcntl
except ImportError:  # Windows: no `exclusive` there, the tests just run side by side
    fcntl = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent

# Ports handed out by free_port: blocks of PORT_BLOCK ports from PORT_BASE up to the start of the
# ephemeral range; block 0 for a run without xdist, block N + 1 for worker gwN.
PORT_BASE = 15000
PORT_BLOCK = 1000


def worker_id() -> str:
    """`gw0`, `gw1`, ... in an xdist worker; `main` otherwise."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def worker_index() -> int | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else None


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> object:
    """Runs before pytest-django's implementation of this hook, which loads the settings."""
    prefix = os.environ.get("HELPDESK_REDIS_PREFIX") or "helpdesk"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        prefix = f"{prefix}-{worker}"
        os.environ["HELPDESK_REDIS_PREFIX"] = prefix
        var_dir = Path(os.environ.get("HELPDESK_VAR_DIR") or ROOT / "var")
        os.environ["HELPDESK_VAR_DIR"] = str(var_dir / f"xdist-{worker}")
    os.environ["CELERY_WORKER_QUEUES"] = f"{prefix}.tests"
    return (yield)


# --- Exclusive tests ----------------------------------------------------------------------------

LOCK_DIR_KEY = "helpdesk_lock_dir"
_lock_key = pytest.StashKey["RunLock"]()
_lock_dir_key = pytest.StashKey[Path]()


class RunLock:
    """A readers-writer lock across the workers of one run (flock on two files of a folder the
    controller made): every test holds the room shared, an `exclusive` test holds it alone.
    A writer takes the turnstile first and keeps it, so the other workers' next tests queue
    behind it instead of slipping into the room one after the other for ever."""

    def __init__(self, folder: Path) -> None:
        self.turnstile: IO[str] = (folder / "turnstile").open("a")
        self.room: IO[str] = (folder / "room").open("a")

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        fcntl.flock(self.turnstile, fcntl.LOCK_EX)
        fcntl.flock(self.room, fcntl.LOCK_SH)
        fcntl.flock(self.turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.room, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        fcntl.flock(self.turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.room, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.room, fcntl.LOCK_UN)
        finally:
            fcntl.flock(self.turnstile, fcntl.LOCK_UN)

    def close(self) -> None:
        self.turnstile.close()
        self.room.close()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the controller: the run's lock folder, made once, for every worker."""
    config = node.config
    if _lock_dir_key not in config.stash:
        config.stash[_lock_dir_key] = Path(tempfile.mkdtemp(prefix="helpdesk-xdist-"))
    node.workerinput[LOCK_DIR_KEY] = str(config.stash[_lock_dir_key])


def pytest_configure(config: pytest.Config) -> None:
    folder = getattr(config, "workerinput", {}).get(LOCK_DIR_KEY)
    if folder and fcntl is not None:
        config.stash[_lock_key] = RunLock(Path(folder))


def pytest_unconfigure(config: pytest.Config) -> None:
    lock = config.stash.get(_lock_key, None)
    if lock is not None:
        lock.close()
    folder = config.stash.get(_lock_dir_key, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> object:
    lock = item.config.stash.get(_lock_key, None)
    if lock is None:
        return (yield)
    with lock.exclusive() if item.get_closest_marker("exclusive") else lock.shared():
        return (yield)


# --- Ports ------------------------------------------------------------------------------------


def _ephemeral_start() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; also below the BSDs' and Windows' 49152


class _PortBlock:
    """This process's ports: a cursor walking its block from a random start, so two runs sharing
    a block (two developers' suites on one machine) rarely meet, and this one never hands out a
    port twice until the block wraps."""

    def __init__(self) -> None:
        self.low = self.high = 0
        self.cursor = -1

    def _place(self) -> None:
        blocks = max(1, (_ephemeral_start() - PORT_BASE) // PORT_BLOCK)
        index = worker_index()
        block = 0 if index is None else (index + 1) % blocks
        self.low = PORT_BASE + block * PORT_BLOCK
        self.high = self.low + PORT_BLOCK
        self.cursor = random.randrange(PORT_BLOCK)

    def next(self) -> int:
        if self.cursor < 0:
            self._place()
        for _ in range(PORT_BLOCK):
            port = self.low + self.cursor
            self.cursor = (self.cursor + 1) % PORT_BLOCK
            if _bindable(port):
                return port
        raise RuntimeError(f"no free port in {self.low}-{self.high - 1}")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_ports = _PortBlock()


def free_port() -> int:
    """A port nothing listens on, for a server a test starts (or starts late, or restarts on
    the same port after killing it).

    Not from the ephemeral range, unlike a port the kernel picks for bind(("", 0)): there the
    kernel also takes the local ports of outgoing connections (a reconnect storm opens hundreds,
    and a client reconnecting to a killed server can even connect to itself), so a port freed
    for a later server could be taken before the server binds it. Each xdist worker has its own
    block, so workers never hand out the same port.
    """
    if _ephemeral_start() <= PORT_BASE + PORT_BLOCK:
        with socket.socket() as sock:  # an unusual range: let the kernel choose
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    return _ports.next()
