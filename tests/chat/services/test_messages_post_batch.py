"""messages_post: many messages stored together answer each sender exactly as message_post
would have, one by one, and cost the same handful of statements whatever their number."""

from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from chat import message_store, services
from chat.errors import BodyEmpty, ChatClosed, ChatNotFound, NotYourChat
from chat.models import Chat, Message, ReplyTally
from chat.services import MessagePost, Participant, PostResult
from tests.factories import AgentFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db

CUSTOMER = Participant.customer()


def stored(chat: Chat) -> list[tuple[int, str, str]]:
    return list(
        Message.objects.filter(chat=chat).order_by("seq").values_list("seq", "kind", "body")
    )


def test_messages_of_several_chats_are_stored_in_order_with_their_bookkeeping(
    committed: Any, signals: Any
) -> None:
    alice, bob = AgentFactory(), AgentFactory()
    first, second = active_chat(agent=alice), active_chat(agent=bob)
    base_first, base_second = first.last_seq, second.last_seq
    posts = [
        MessagePost(first.pk, CUSTOMER, "one", "c-1"),
        MessagePost(second.pk, Participant.agent(bob), "hello", "b-1", origin="canned"),
        MessagePost(first.pk, Participant.agent(alice), "two", "a-1"),
        MessagePost(first.pk, CUSTOMER, "three", "c-2"),
    ]
    with committed():
        outcomes = services.messages_post(posts)

    assert all(isinstance(outcome, PostResult) and outcome.created for outcome in outcomes)
    assert [outcome.message.seq for outcome in outcomes] == [
        base_first + 1,
        base_second + 1,
        base_first + 2,
        base_first + 3,
    ]
    assert stored(first)[-3:] == [
        (base_first + 1, "customer", "one"),
        (base_first + 2, "agent", "two"),
        (base_first + 3, "customer", "three"),
    ]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.last_seq, second.last_seq) == (base_first + 3, base_second + 1)
    # The customer wrote again after the answer: waiting since "three".
    assert first.awaiting_reply_since == outcomes[3].message.created_at
    assert first.first_agent_response_at == outcomes[2].message.created_at
    assert second.awaiting_reply_since is None
    tally = ReplyTally.objects.get(chat=second, author=bob)
    assert (tally.replies, tally.templated_replies) == (1, 1)
    posted = [(sent["chat_id"], sent["message_id"]) for sent in signals.of("message_posted")]
    assert posted == [(o.message.chat_id, o.message.pk) for o in outcomes]


def test_each_sender_gets_the_answer_message_post_would_give() -> None:
    alice, mallory = AgentFactory(), AgentFactory()
    chat, closed = active_chat(agent=alice), active_chat(agent=alice)
    services.chat_close(chat_id=closed.pk, by=Participant.agent(alice))
    earlier = services.message_post(
        chat_id=chat.pk, sender=CUSTOMER, body="hi", client_msg_id="c-0"
    )
    posts = [
        MessagePost(chat.pk, CUSTOMER, "hi", "c-0"),  # a resend of a stored message
        MessagePost(chat.pk, CUSTOMER, "new", "c-1"),
        MessagePost(chat.pk, CUSTOMER, "new", "c-1"),  # the same message twice in the batch
        MessagePost(closed.pk, CUSTOMER, "late", "c-2"),
        MessagePost(chat.pk, Participant.agent(mallory), "mine?", "m-1"),
        MessagePost(chat.pk + 10_000, CUSTOMER, "where", "c-3"),
        MessagePost(chat.pk, CUSTOMER, "   ", "c-4"),
        MessagePost(chat.pk, Participant.agent(alice), "answer", "a-1"),
    ]
    outcomes = services.messages_post(posts)

    resend, new, twice, late, foreign, unknown, blank, answer = outcomes
    assert isinstance(resend, PostResult) and not resend.created
    assert resend.message.pk == earlier.message.pk
    assert isinstance(new, PostResult) and new.created
    assert isinstance(twice, PostResult) and not twice.created
    assert twice.message.pk == new.message.pk
    assert isinstance(late, ChatClosed)
    assert isinstance(foreign, NotYourChat)
    assert isinstance(unknown, ChatNotFound)
    assert isinstance(blank, BodyEmpty)
    assert isinstance(answer, PostResult) and answer.message.seq == new.message.seq + 1
    bodies = [body for _, _, body in stored(chat)]
    assert bodies.count("new") == 1 and bodies[-1] == "answer"


def test_the_statements_do_not_grow_with_the_messages() -> None:
    agents = [AgentFactory() for _ in range(4)]
    chats = [active_chat(agent=agent) for agent in agents]

    def batch(size: int, tag: str) -> list[MessagePost]:
        return [
            MessagePost(
                chats[n % 4].pk,
                CUSTOMER if n % 2 else Participant.agent(agents[n % 4]),
                f"{tag}{n}",
                f"{tag}-{n}",
            )
            for n in range(size)
        ]

    services.messages_post(batch(4, "w"))  # every tally row exists from here on
    with CaptureQueriesContext(connection) as ten:
        services.messages_post(batch(10, "x"))
    with CaptureQueriesContext(connection) as forty:
        services.messages_post(batch(40, "y"))
    assert len(forty) == len(ten)
    # Savepoint, lock, resend check, insert, chat updates (one executemany), the tallies of the
    # two agents who write (even messages go to chats 0 and 2), savepoint release.
    assert len(ten) == 8


def test_an_unexpected_database_error_stores_each_message_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    chat = active_chat()
    insert = message_store.messages_insert
    calls: list[int] = []

    def fails_together(messages: list[Message]) -> None:
        calls.append(len(messages))
        if len(messages) > 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        insert(messages)

    monkeypatch.setattr(message_store, "messages_insert", fails_together)
    outcomes = services.messages_post(
        [MessagePost(chat.pk, CUSTOMER, f"m{n}", f"c-{n}") for n in range(3)]
    )
    assert all(isinstance(outcome, PostResult) and outcome.created for outcome in outcomes)
    assert calls == [3, 1, 1, 1]
    assert [body for _, _, body in stored(chat)][-3:] == ["m0", "m1", "m2"]
    assert "one by one" in caplog.text
