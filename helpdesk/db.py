"""Database connections of the web processes.

Under ASGI every HTTP request runs in a context of its own, and Django keeps a connection per
context: a persistent connection (CONN_MAX_AGE) opened by a request is never reused by the
next one, and lingers until the garbage collector closes it. A burst of requests then holds
hundreds of idle connections and PostgreSQL refuses new ones ("too many clients"; measured:
500 chats started at once, tests/integration/drills/test_drill_assignment_storm.py). The
websocket consumers share one connection in the database thread and keep it (CONN_MAX_AGE):
only the requests' connections are closed when the request ends.
"""

from typing import Any

from django.db import connections


def close_request_connections(**kwargs: Any) -> None:
    """request_finished receiver: close the request's connections (never one inside a
    transaction, such as a test's)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
