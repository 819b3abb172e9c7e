"""The sockets' database threads (chat.db_hops) check their kept connection with `SELECT 1`
only after some thread met a database error, not before every frame."""

import threading
from typing import Any

import pytest
from django.db import OperationalError, connection

from chat import db_hops

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def connection_state() -> tuple[int, bool]:
    """(this thread, whether its kept connection will skip the health check), then use it."""
    trusted = connection.connection is not None and connection.health_check_done
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return threading.get_ident(), trusted


def fail() -> None:
    raise OperationalError("server closed the connection unexpectedly")


async def test_a_kept_connection_is_checked_again_only_after_a_database_error(
    postgres: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HELPDESK_DB_THREADS = 2
    # Kept between calls, as in production (the tests' settings close it after each).
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    hop = db_hops.db_hop(connection_state)
    seen: dict[int, list[bool]] = {}
    for _ in range(12):
        thread, trusted = await hop()
        seen.setdefault(thread, []).append(trusted)
    # A thread's first call opens its connection; every later call trusts it.
    assert all(not calls[0] and all(calls[1:]) for calls in seen.values()), seen

    with pytest.raises(OperationalError):
        await db_hops.db_hop(fail)()
    after: dict[int, list[bool]] = {}
    for _ in range(12):
        thread, trusted = await hop()
        after.setdefault(thread, []).append(trusted)
    db_hops.close_pool_connections()
    # After the error, each thread checks once before its next call, then trusts again.
    assert all(not calls[0] and all(calls[1:]) for calls in after.values()), after
