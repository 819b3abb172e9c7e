"""The SQL of the hot path: storing one chat message (chat.services.message_post).

Every chat message passes here. Building its five queries with the ORM (compiling the same
statements, joins and converters again for every message) cost about 3 ms of CPU per message,
most of what a server process spent on one (py-spy, docs/performance.md). These statements are
built once per database vendor from the models' metadata, so they follow the schema, and run
as plain parameterised SQL on SQLite and PostgreSQL alike. Only the common path is here: the
rare ones (a resend, a chat that is not the agent's) load models with the ORM.
"""

# S608: every identifier below comes from the models' metadata, quoted by the backend; every
# value is a query parameter.
# ruff: noqa: S608

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper

from chat.models import Chat, Message, ReplyTally
from helpdesk.models import Customer


@dataclass(frozen=True, slots=True)
class PostingChat:
    """What storing a message needs of its chat, read under the chat's row lock."""

    id: int
    status: str
    agent_id: int | None
    topic_id: int
    last_seq: int
    on_hold: bool
    awaiting_reply: bool
    answered: bool
    customer_name: str


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


# A chat timestamp that storing messages leaves as it is.
KEEP: Any = _Keep()
_RECORDED = (
    "last_customer_message_at",
    "awaiting_reply_since",
    "first_agent_response_at",
    "on_hold_since",
)


@dataclass(slots=True)
class ChatRecord:
    """What storing messages changes on their chat: the last `seq`, and each timestamp either
    kept (KEEP) or set (to a time, or None to clear it)."""

    chat_id: int
    last_seq: int
    last_customer_message_at: Any = KEEP
    awaiting_reply_since: Any = KEEP
    first_agent_response_at: Any = KEEP
    on_hold_since: Any = KEEP


@dataclass(frozen=True, slots=True)
class _Statements:
    state: str
    lock: str
    existing: str
    insert: str
    insert_row: str
    insert_returns: bool
    record: str
    tally_update: str
    tally_insert: str


def _column(model: Any, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Every column a new message sets: a model field added without a database default must be
# added here too (tests/chat/services/test_message_post_storage.py checks).
_INSERTED = (
    "chat",
    "seq",
    "kind",
    "author",
    "body",
    "client_msg_id",
    "origin",
    "tone_overrides",
    "data",
    "created_at",
)


@cache
def _statements(vendor: str) -> _Statements:
    features = connection.features
    chat, message, tally = _table(Chat), _table(Message), _table(ReplyTally)

    def c(name: str) -> str:
        return _column(Chat, name)

    def m(name: str) -> str:
        return _column(Message, name)

    def t(name: str) -> str:
        return _column(ReplyTally, name)

    # `{ids}` is filled with one placeholder per chat. In id order, so that two transactions
    # locking several chats each never wait for each other in a circle.
    lock = (
        f"SELECT ch.{c('id')}, ch.{c('status')}, ch.{c('agent')}, ch.{c('topic')}, "
        f"ch.{c('last_seq')}, ch.{c('on_hold_since')} IS NOT NULL, "
        f"ch.{c('awaiting_reply_since')} IS NOT NULL, "
        f"ch.{c('first_agent_response_at')} IS NOT NULL, cu.{_column(Customer, 'name')} "
        f"FROM {chat} ch INNER JOIN {_table(Customer)} cu "
        f"ON cu.{_column(Customer, 'id')} = ch.{c('customer')} "
        f"WHERE ch.{c('id')} IN ({{ids}}) ORDER BY ch.{c('id')}"
    )
    if features.has_select_for_update:
        lock += " FOR UPDATE OF ch" if features.has_select_for_update_of else " FOR UPDATE"
    returns = features.can_return_rows_from_bulk_insert
    insert = f"INSERT INTO {message} ({', '.join(m(name) for name in _INSERTED)}) VALUES {{rows}}"
    if returns:
        insert += f" RETURNING {m('id')}, {m('chat')}, {m('seq')}"

    def recorded(name: str) -> str:
        return f"{c(name)} = CASE WHEN %s THEN %s ELSE {c(name)} END"

    return _Statements(
        state=f"SELECT {c('status')}, {c('agent')} FROM {chat} WHERE {c('id')} = %s",
        lock=lock,
        existing=(
            f"SELECT {m('chat')}, {m('kind')}, {m('client_msg_id')}, {m('id')} FROM {message} "
            f"WHERE {m('chat')} IN ({{ids}}) AND {m('client_msg_id')} IN ({{client_msg_ids}})"
        ),
        insert=insert,
        insert_row="(" + ", ".join(["%s"] * len(_INSERTED)) + ")",
        insert_returns=returns,
        record=(
            f"UPDATE {chat} SET {c('last_seq')} = %s, "
            + ", ".join(recorded(name) for name in _RECORDED)
            + f" WHERE {c('id')} = %s"
        ),
        tally_update=(
            f"UPDATE {tally} SET {t('replies')} = {t('replies')} + %s, "
            f"{t('templated_replies')} = {t('templated_replies')} + %s, "
            f"{t('tone_warned_replies')} = {t('tone_warned_replies')} + %s "
            f"WHERE {t('chat')} = %s AND {t('author')} = %s"
        ),
        tally_insert=(
            f"INSERT INTO {tally} ({t('chat')}, {t('author')}, {t('replies')}, "
            f"{t('templated_replies')}, {t('tone_warned_replies')}) VALUES (%s, %s, %s, %s, %s)"
        ),
    )


@cache
def _inserted_fields() -> list[Any]:
    return [Message._meta.get_field(name) for name in _INSERTED]


def _sql() -> _Statements:
    return _statements(connection.vendor)


def _cursor() -> CursorWrapper:
    """A cursor for these statements. On PostgreSQL it binds parameters on the server: the
    project's other cursors quote them into the SQL on the client (Django's default), which
    was 3-7 % of a busy server's profile samples on these statements alone."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    # As `connection.cursor()` does, with the server-binding cursor class.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(ServerBindingCursor(connection.connection))


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def chat_status_and_agent(chat_id: int) -> tuple[str, int | None] | None:
    """(status, agent id) of a chat, unlocked (who hears a typing notice: one per keystroke
    burst, as frequent as messages)."""
    with _cursor() as cursor:
        cursor.execute(_sql().state, [chat_id])
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def chats_lock_for_post(chat_ids: list[int]) -> dict[int, PostingChat]:
    """The chats' rows, locked for the rest of the caller's transaction (as
    chat.services.lock_chat), with their customers' names; a missing chat is left out."""
    ids = sorted(set(chat_ids))
    with _cursor() as cursor:
        cursor.execute(_sql().lock.format(ids=_placeholders(len(ids))), ids)
        rows = cursor.fetchall()
    return {
        row[0]: PostingChat(
            id=row[0],
            status=row[1],
            agent_id=row[2],
            topic_id=row[3],
            last_seq=row[4],
            on_hold=bool(row[5]),
            awaiting_reply=bool(row[6]),
            answered=bool(row[7]),
            customer_name=row[8],
        )
        for row in rows
    }


def message_ids_by_client_msg_id(
    keys: list[tuple[int, str, str]],
) -> dict[tuple[int, str, str], int]:
    """The stored messages among these (chat id, kind, client_msg_id): key -> message id."""
    keys = [key for key in keys if key[2]]
    if not keys:
        return {}
    chat_ids = sorted({chat_id for chat_id, _, _ in keys})
    client_msg_ids = sorted({client_msg_id for _, _, client_msg_id in keys})
    sql = _sql().existing.format(
        ids=_placeholders(len(chat_ids)), client_msg_ids=_placeholders(len(client_msg_ids))
    )
    with _cursor() as cursor:
        cursor.execute(sql, [*chat_ids, *client_msg_ids])
        rows = cursor.fetchall()
    wanted = set(keys)
    return {(row[0], row[1], row[2]): row[3] for row in rows if (row[0], row[1], row[2]) in wanted}


def messages_insert(messages: list[Message]) -> None:
    """Insert new, unsaved messages in one statement and set their ids; the instances then
    read as loaded ones."""
    if not messages:
        return
    statements = _sql()
    fields = _inserted_fields()
    params = [
        field.get_db_prep_save(getattr(message, field.attname), connection)
        for message in messages
        for field in fields
    ]
    if statements.insert_returns:
        sql = statements.insert.format(rows=", ".join([statements.insert_row] * len(messages)))
        with _cursor() as cursor:
            cursor.execute(sql, params)
            ids = {(chat_id, seq): pk for pk, chat_id, seq in cursor.fetchall()}
        for message in messages:
            message.pk = ids[(message.chat_id, message.seq)]
    else:
        width = len(fields)
        with _cursor() as cursor:
            for index, message in enumerate(messages):
                row = params[index * width : (index + 1) * width]
                cursor.execute(statements.insert.format(rows=statements.insert_row), row)
                message.pk = cursor.lastrowid
    for message in messages:
        message._state.adding = False
        message._state.db = connection.alias


def chats_record(records: list[ChatRecord]) -> None:
    """Write what storing messages changed on their (locked) chats."""
    if not records:
        return
    prep = Chat._meta.get_field("last_customer_message_at").get_db_prep_save
    params = []
    for record in records:
        row: list[Any] = [record.last_seq]
        for name in _RECORDED:
            value = getattr(record, name)
            row += [value is not KEEP, None if value is KEEP else prep(value, connection)]
        params.append([*row, record.chat_id])
    with _cursor() as cursor:
        cursor.executemany(_sql().record, params)


def tallies_count(rows: list[tuple[int, int, int, int, int]]) -> None:
    """Add (chat id, author id, replies, templated, tone-warned) to the reply tallies. The
    caller holds the chats' row locks, so update-then-insert cannot race with another reply of
    the same chat."""
    statements = _sql()
    with _cursor() as cursor:
        for chat_id, author_id, replies, templated, tone_warned in rows:
            cursor.execute(
                statements.tally_update, [replies, templated, tone_warned, chat_id, author_id]
            )
            if cursor.rowcount == 0:
                cursor.execute(
                    statements.tally_insert, [chat_id, author_id, replies, templated, tone_warned]
                )
