"""What a socket costs the database as it connects and resumes: after a server restart every
client does both at once, so each statement counts (docs/performance.md, the restart)."""

import re
import threading
from typing import Any

import pytest
from django.db.backends import utils

from tests.chat.consumers.test_console_socket import session_cookie
from tests.chat.consumers.wsutil import db, receive
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db(transaction=True)

# Transaction control is not a query of the application's (SQLite sends BEGIN through the
# cursor, PostgreSQL does not).
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK)", re.IGNORECASE)


class Statements:
    """Every statement any thread runs (the sockets' work runs in database threads)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sql: list[str] = []
        self._lock = threading.Lock()
        execute = utils.CursorWrapper._execute

        def counted(cursor: Any, sql: str, *args: Any) -> Any:
            if not TRANSACTION_CONTROL.match(sql):
                with self._lock:
                    self.sql.append(sql)
            return execute(cursor, sql, *args)

        monkeypatch.setattr(utils.CursorWrapper, "_execute", counted)

    def take(self) -> list[str]:
        taken, self.sql = self.sql, []
        return taken


async def resumed(comm: Any) -> None:
    while (await receive(comm))["type"] != "resumed":
        pass


@pytest.mark.parametrize("chats", [1, 3])
async def test_a_console_connects_and_resumes_in_eleven_statements_whatever_its_chats(
    sockets: Any, monkeypatch: pytest.MonkeyPatch, chats: int
) -> None:
    agent = await db(AgentFactory)()
    mine = [await db(active_chat)(agent=agent) for _ in range(chats)]
    await db(start_chat)()  # one in the queue too
    cookie = await session_cookie(agent)
    statements = Statements(monkeypatch)

    console, snapshot = await sockets.console(cookie=cookie)
    await console.send_json_to({"type": "resume", "chat": mine[0].pk, "after_seq": 0})
    await resumed(console)

    assert len(snapshot["chats"]) == chats + 1
    # Session and user (2), staff roles (1), queue topics (1), snapshot (2), presence: the
    # agent's profile locked, the connection row updated then inserted (3), resume: the chat
    # and its messages (2).
    assert len(statements.take()) == 11


async def test_a_customer_connects_and_resumes_in_four_statements(
    sockets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = await db(active_chat)()
    statements = Statements(monkeypatch)

    customer, _ = await sockets.customer(chat)
    await customer.send_json_to({"type": "resume", "after_seq": 0})
    await resumed(customer)

    # The chat by its token (1), the customer seen (1), resume: the chat and its messages (2).
    assert len(statements.take()) == 4
