"""message_post stores with plain SQL (chat.message_store): what it writes must be exactly what
the models say a message and its chat are, and it must stay a handful of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import message_store, services
from chat.models import Chat, Message, ReplyTally
from chat.services import Participant
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db

CUSTOMER = Participant.customer()


def test_every_column_of_a_message_is_written() -> None:
    # A field added to Message without a database default would be missing from the INSERT.
    fields = {field.name for field in Message._meta.concrete_fields} - {"id"}
    assert fields == set(message_store._INSERTED)


def test_the_stored_message_reads_back_as_the_returned_one() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    result = services.message_post(
        chat_id=chat.pk,
        sender=Participant.agent(agent),
        body="<b>Try this</b> ✓",
        client_msg_id="a-1",
        origin="canned",
        tone_overrides=["calm down"],
    )
    returned = result.message
    stored = Message.objects.get(pk=returned.pk)
    for name in ("chat_id", "seq", "kind", "author_id", "body", "client_msg_id", "origin"):
        assert getattr(stored, name) == getattr(returned, name), name
    assert stored.tone_overrides == ["calm down"]
    assert stored.data == {}
    assert stored.created_at == returned.created_at
    assert returned._state.adding is False


def test_a_customer_message_starts_the_wait_once() -> None:
    chat = active_chat()
    Chat.objects.filter(pk=chat.pk).update(awaiting_reply_since=None)
    first = services.message_post(chat_id=chat.pk, sender=CUSTOMER, body="one").message
    second = services.message_post(chat_id=chat.pk, sender=CUSTOMER, body="two").message
    chat.refresh_from_db()
    assert chat.last_seq == second.seq
    assert chat.awaiting_reply_since == first.created_at
    assert chat.last_customer_message_at == second.created_at


def test_an_answer_ends_the_wait_and_sets_the_first_response_once() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    me = Participant.agent(agent)
    first = services.message_post(chat_id=chat.pk, sender=me, body="Hi").message
    services.message_post(chat_id=chat.pk, sender=CUSTOMER, body="Still there?")
    services.message_post(chat_id=chat.pk, sender=me, body="Yes")
    chat.refresh_from_db()
    assert chat.first_agent_response_at == first.created_at
    assert chat.awaiting_reply_since is None


def test_a_hold_reply_holds_and_the_next_answer_releases() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    me = Participant.agent(agent)
    hold = services.message_post(
        chat_id=chat.pk, sender=me, body="Let me check", origin="hold"
    ).message
    chat.refresh_from_db()
    assert chat.on_hold_since == hold.created_at
    services.message_post(chat_id=chat.pk, sender=me, body="Found it")
    chat.refresh_from_db()
    assert chat.on_hold_since is None


def test_replies_are_counted_per_author() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    me = Participant.agent(agent)
    services.message_post(chat_id=chat.pk, sender=me, body="one", origin="canned")
    services.message_post(chat_id=chat.pk, sender=me, body="two", tone_overrides=["calm"])
    tally = ReplyTally.objects.get(chat=chat, author=agent)
    assert (tally.replies, tally.templated_replies, tally.tone_warned_replies) == (2, 1, 1)


def test_a_message_to_a_missing_chat_is_refused_without_writing() -> None:
    chat = start_chat()
    before = Message.objects.count()
    with pytest.raises(services.ChatNotFound):
        services.message_post(chat_id=chat.pk + 1000, sender=CUSTOMER, body="hi")
    assert Message.objects.count() == before


def test_a_message_costs_a_fixed_handful_of_queries() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    me = Participant.agent(agent)
    services.message_post(chat_id=chat.pk, sender=me, body="warm up", client_msg_id="a-0")
    # Savepoint in, lock, resend check, insert, chat update, savepoint out; an agent's reply
    # also updates its tally.
    with CaptureQueriesContext(connection) as customer_queries:
        services.message_post(chat_id=chat.pk, sender=CUSTOMER, body="c", client_msg_id="c-1")
    with CaptureQueriesContext(connection) as agent_queries:
        services.message_post(chat_id=chat.pk, sender=me, body="a", client_msg_id="a-1")
    assert len(customer_queries) == 6
    assert len(agent_queries) == 7


def test_the_created_time_is_the_time_of_storing() -> None:
    chat = start_chat()
    message = services.message_post(chat_id=chat.pk, sender=CUSTOMER, body="now").message
    stored = Message.objects.get(pk=message.pk)
    assert abs(stored.created_at - chat.created_at) < timedelta(minutes=1)
