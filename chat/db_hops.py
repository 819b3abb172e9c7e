"""Where the sockets' database work runs.

Channels' `database_sync_to_async` runs every call of a process in one shared thread, so a
process stores one message at a time and each of its 5-7 round trips to PostgreSQL holds up
every other socket: the process runs at the pace of the database's latency, not of its CPU. On
PostgreSQL the sockets' calls run in a small pool of threads instead, each with its own
connection; the chat's row lock (chat.services.lock_chat) still orders the writes of one chat,
and each socket still handles its frames one after another. SQLite allows one writer at a
time, so there the shared thread stays (HELPDESK_DB_THREADS = 1).
"""

import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import SyncToAsync
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

P = ParamSpec("P")
R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def db_hop(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """`func` as a coroutine function run in a database thread; stale connections are closed
    around each call, as `database_sync_to_async` does."""
    if settings.HELPDESK_DB_THREADS <= 1:
        return database_sync_to_async(func)
    return _PooledHop(func, thread_sensitive=False, executor=_executor())


class _DatabaseErrors:
    """How many database errors the pool's threads have seen (a restart breaks every thread's
    connection at once)."""

    seen = 0


_thread_state = threading.local()


class _PooledHop(DatabaseSyncToAsync):
    """Closes stale connections around each call, as `database_sync_to_async` does, but checks
    a kept connection with `SELECT 1` (CONN_HEALTH_CHECKS) only when some thread of the pool
    has met a database error since this thread last checked: that check, before every frame,
    was one round trip more per message. After a database restart the first frame to meet it
    fails (`unavailable`, the client resends) and every other thread checks before its next."""

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        if getattr(_thread_state, "errors_seen", None) == _DatabaseErrors.seen:
            for connection in connections.all(initialized_only=True):
                connection.health_check_done = True
        _thread_state.errors_seen = _DatabaseErrors.seen
        try:
            return SyncToAsync.thread_handler(self, loop, *args, **kwargs)
        except (OperationalError, InterfaceError):
            _DatabaseErrors.seen += 1
            raise
        finally:
            close_old_connections()


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(
                    max_workers=settings.HELPDESK_DB_THREADS, thread_name_prefix="db"
                )
    return _pool


def close_pool_connections() -> None:
    """Close the connection of every pool thread (before the database goes away: tests drop
    theirs at the end of a run)."""
    pool = _pool
    if pool is None:
        return
    threads = pool._max_workers
    # One task per thread: each closes its own connection, then waits for the others, so no
    # thread can take two.
    everyone = threading.Barrier(threads)

    def close_mine() -> None:
        connections.close_all()
        everyone.wait(timeout=10)

    for future in [pool.submit(close_mine) for _ in range(threads)]:
        future.result(timeout=15)
