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
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

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


@dataclass(frozen=True, slots=True)
class _Statements:
    lock: str
    message_id: str
    insert: str
    insert_returns_id: bool
    record_customer: str
    record_answer: str
    record_seq: str
    tally_update: str
    tally_insert: str


def _column(model: Any, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


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

    lock = (
        f"SELECT ch.{c('status')}, ch.{c('agent')}, ch.{c('topic')}, ch.{c('last_seq')}, "
        f"ch.{c('on_hold_since')} IS NOT NULL, ch.{c('awaiting_reply_since')} IS NOT NULL, "
        f"ch.{c('first_agent_response_at')} IS NOT NULL, cu.{_column(Customer, 'name')} "
        f"FROM {chat} ch INNER JOIN {_table(Customer)} cu "
        f"ON cu.{_column(Customer, 'id')} = ch.{c('customer')} "
        f"WHERE ch.{c('id')} = %s"
    )
    if features.has_select_for_update:
        lock += " FOR UPDATE OF ch" if features.has_select_for_update_of else " FOR UPDATE"
    columns = ", ".join(m(name) for name in _INSERTED)
    placeholders = ", ".join(["%s"] * len(_INSERTED))
    insert = f"INSERT INTO {message} ({columns}) VALUES ({placeholders})"
    returns_id = features.can_return_columns_from_insert
    if returns_id:
        insert += f" RETURNING {m('id')}"
    return _Statements(
        lock=lock,
        message_id=(
            f"SELECT {m('id')} FROM {message} "
            f"WHERE {m('chat')} = %s AND {m('kind')} = %s AND {m('client_msg_id')} = %s"
        ),
        insert=insert,
        insert_returns_id=returns_id,
        record_customer=(
            f"UPDATE {chat} SET {c('last_seq')} = %s, {c('last_customer_message_at')} = %s, "
            f"{c('awaiting_reply_since')} = COALESCE({c('awaiting_reply_since')}, %s) "
            f"WHERE {c('id')} = %s"
        ),
        record_answer=(
            f"UPDATE {chat} SET {c('last_seq')} = %s, "
            f"{c('first_agent_response_at')} = COALESCE({c('first_agent_response_at')}, %s), "
            f"{c('awaiting_reply_since')} = NULL, {c('on_hold_since')} = %s "
            f"WHERE {c('id')} = %s"
        ),
        record_seq=f"UPDATE {chat} SET {c('last_seq')} = %s WHERE {c('id')} = %s",
        tally_update=(
            f"UPDATE {tally} SET {t('replies')} = {t('replies')} + 1, "
            f"{t('templated_replies')} = {t('templated_replies')} + %s, "
            f"{t('tone_warned_replies')} = {t('tone_warned_replies')} + %s "
            f"WHERE {t('chat')} = %s AND {t('author')} = %s"
        ),
        tally_insert=(
            f"INSERT INTO {tally} ({t('chat')}, {t('author')}, {t('replies')}, "
            f"{t('templated_replies')}, {t('tone_warned_replies')}) VALUES (%s, %s, 1, %s, %s)"
        ),
    )


# Every column a new message sets: a model field added without a database default must be
# added here too (tests/chat/test_message_store.py compares with what the ORM would write).
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
def _inserted_fields() -> list[Any]:
    return [Message._meta.get_field(name) for name in _INSERTED]


def _sql() -> _Statements:
    return _statements(connection.vendor)


def chat_lock_for_post(chat_id: int) -> PostingChat | None:
    """The chat's row, locked for the rest of the caller's transaction (as
    chat.services.lock_chat), with its customer's name; None if there is no such chat."""
    with connection.cursor() as cursor:
        cursor.execute(_sql().lock, [chat_id])
        row = cursor.fetchone()
    if row is None:
        return None
    status, agent_id, topic_id, last_seq, on_hold, awaiting, answered, name = row
    return PostingChat(
        id=chat_id,
        status=status,
        agent_id=agent_id,
        topic_id=topic_id,
        last_seq=last_seq,
        on_hold=bool(on_hold),
        awaiting_reply=bool(awaiting),
        answered=bool(answered),
        customer_name=name,
    )


def message_id_by_client_msg_id(*, chat_id: int, kind: str, client_msg_id: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(_sql().message_id, [chat_id, kind, client_msg_id])
        row = cursor.fetchone()
    return None if row is None else row[0]


def message_insert(message: Message) -> None:
    """Insert a new, unsaved message and set its id; the instance then reads as a loaded one."""
    statements = _sql()
    params = [
        field.get_db_prep_save(getattr(message, field.attname), connection)
        for field in _inserted_fields()
    ]
    with connection.cursor() as cursor:
        cursor.execute(statements.insert, params)
        message.pk = cursor.fetchone()[0] if statements.insert_returns_id else cursor.lastrowid
    message._state.adding = False
    message._state.db = connection.alias


def chat_record_customer_message(*, chat_id: int, seq: int, at: datetime) -> None:
    """The customer wrote: they now wait for an answer (unless they already did)."""
    at_db = _datetime_param(at)
    with connection.cursor() as cursor:
        cursor.execute(_sql().record_customer, [seq, at_db, at_db, chat_id])


def chat_record_answer(*, chat_id: int, seq: int, at: datetime, on_hold: bool) -> None:
    """An agent answered: the wait ends, the first response time is set once, and the chat is
    on hold from now if the answer was a hold reply, off hold otherwise."""
    at_db = _datetime_param(at)
    with connection.cursor() as cursor:
        cursor.execute(_sql().record_answer, [seq, at_db, at_db if on_hold else None, chat_id])


def chat_record_seq(*, chat_id: int, seq: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_sql().record_seq, [seq, chat_id])


def tally_count_reply(*, chat_id: int, author_id: int, templated: bool, tone_warned: bool) -> None:
    """One more reply of this author in this chat. The caller holds the chat's row lock, so
    the update-then-insert cannot race with another reply of the same chat."""
    statements = _sql()
    with connection.cursor() as cursor:
        cursor.execute(
            statements.tally_update, [int(templated), int(tone_warned), chat_id, author_id]
        )
        if cursor.rowcount == 0:
            cursor.execute(
                statements.tally_insert, [chat_id, author_id, int(templated), int(tone_warned)]
            )


def _datetime_param(value: datetime) -> Any:
    return Chat._meta.get_field("last_customer_message_at").get_db_prep_save(value, connection)
