"""message_post: every message is stored once, in order, and only where it is allowed."""

import pytest
from django.db import transaction
from django.utils import timezone

from chat import services
from chat.errors import (
    BodyEmpty,
    BodyInvalid,
    BodyTooLong,
    ChatClosed,
    ChatNotFound,
    ClientMessageIdConflict,
    NotYourChat,
)
from chat.models import MESSAGE_MAX_LENGTH, Chat, Message
from chat.services import Participant
from tests.chat.frames import assert_customer_safe
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db

CUSTOMER = Participant.customer()


def post(chat: Chat, sender: Participant, body: str = "Hello", client_msg_id: str = ""):
    return services.message_post(
        chat_id=chat.pk, sender=sender, body=body, client_msg_id=client_msg_id
    )


def stored(chat: Chat) -> list[tuple[int, str, str]]:
    return list(
        Message.objects.filter(chat=chat).order_by("seq").values_list("seq", "kind", "body")
    )


def test_messages_get_gap_free_sequence_numbers_in_order() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)  # 1 greeting, 2 question, 3 joined
    me = Participant.agent(agent)
    results = [
        post(chat, CUSTOMER, "c1", "c-1"),
        post(chat, me, "a1", "a-1"),
        post(chat, CUSTOMER, "c2"),
        post(chat, me, "a2"),
        post(chat, me, "a3", "a-3"),
    ]
    assert [r.message.seq for r in results] == [4, 5, 6, 7, 8]
    assert all(r.created for r in results)
    assert [seq for seq, _, _ in stored(chat)] == list(range(1, 9))
    chat.refresh_from_db()
    assert chat.last_seq == 8
    assert stored(chat)[3:] == [
        (4, "customer", "c1"),
        (5, "agent", "a1"),
        (6, "customer", "c2"),
        (7, "agent", "a2"),
        (8, "agent", "a3"),
    ]


def test_authors_are_recorded_by_kind() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    from_customer = post(chat, CUSTOMER).message
    from_agent = post(chat, Participant.agent(agent)).message
    assert (from_customer.kind, from_customer.author) == ("customer", None)
    assert (from_agent.kind, from_agent.author) == ("agent", agent)


def test_a_customer_may_write_while_queued() -> None:
    chat = start_chat()
    result = post(chat, CUSTOMER, "Still there?", "c-1")
    assert result.created and result.message.seq == 3


# --- Idempotency -----------------------------------------------------------------------------


def test_a_resend_with_the_same_client_msg_id_is_stored_once() -> None:
    chat = start_chat()
    first = post(chat, CUSTOMER, "Hello", "c-1")
    again = post(chat, CUSTOMER, "Hello", "c-1")
    assert first.created and not again.created
    assert again.message.pk == first.message.pk and again.message.seq == first.message.seq
    assert Message.objects.filter(chat=chat, client_msg_id="c-1").count() == 1
    chat.refresh_from_db()
    assert chat.last_seq == first.message.seq


def test_an_agents_resend_is_stored_once() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    first = post(chat, Participant.agent(agent), "On it", "a-1")
    again = post(chat, Participant.agent(agent), "On it", "a-1")
    assert not again.created and again.message.seq == first.message.seq
    assert Message.objects.filter(chat=chat, kind="agent").count() == 1


def test_a_resend_after_the_chat_closed_still_returns_the_original() -> None:
    chat = start_chat()
    first = post(chat, CUSTOMER, "Bye", "c-1")
    services.chat_close(chat_id=chat.pk, by=CUSTOMER)
    last_seq = Chat.objects.get(pk=chat.pk).last_seq

    again = post(chat, CUSTOMER, "Bye", "c-1")

    assert not again.created and again.message.seq == first.message.seq
    assert Chat.objects.get(pk=chat.pk).last_seq == last_seq


def test_reusing_a_client_msg_id_for_another_body_is_a_conflict() -> None:
    chat = start_chat()
    post(chat, CUSTOMER, "Hello", "c-1")
    before = stored(chat)
    with pytest.raises(ClientMessageIdConflict) as excinfo:
        post(chat, CUSTOMER, "Hello!", "c-1")
    assert excinfo.value.code == "client_msg_id_conflict"
    assert stored(chat) == before


def test_a_conflict_is_reported_even_after_the_chat_closed() -> None:
    chat = start_chat()
    post(chat, CUSTOMER, "Hello", "c-1")
    services.chat_close(chat_id=chat.pk, by=CUSTOMER)
    with pytest.raises(ClientMessageIdConflict):
        post(chat, CUSTOMER, "Other", "c-1")


def test_the_same_client_msg_id_on_both_sides_is_two_messages() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    mine = post(chat, CUSTOMER, "Hi", "1")
    theirs = post(chat, Participant.agent(agent), "Hi", "1")
    assert mine.created and theirs.created
    assert mine.message.pk != theirs.message.pk


def test_the_same_client_msg_id_in_two_chats_is_two_messages() -> None:
    one, two = start_chat(), start_chat()
    assert post(one, CUSTOMER, "Hi", "same").created
    assert post(two, CUSTOMER, "Hi", "same").created


def test_without_a_client_msg_id_every_post_is_a_new_message() -> None:
    chat = start_chat()
    first, second = post(chat, CUSTOMER, "Hi"), post(chat, CUSTOMER, "Hi")
    assert first.created and second.created
    assert second.message.seq == first.message.seq + 1


# --- Refusals ----------------------------------------------------------------------------------


def test_posting_to_a_closed_chat_is_refused() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    services.chat_close(chat_id=chat.pk, by=CUSTOMER)
    before = stored(chat)
    for sender in (CUSTOMER, Participant.agent(agent)):
        with pytest.raises(ChatClosed) as excinfo:
            post(chat, sender, "Hello?", "late-1")
        assert excinfo.value.code == "chat_closed"
    assert stored(chat) == before


def test_an_agent_cannot_post_to_another_agents_chat() -> None:
    chat = active_chat(agent=AgentFactory())
    before = stored(chat)
    with pytest.raises(NotYourChat) as excinfo:
        post(chat, Participant.agent(AgentFactory()), "Hi", "a-1")
    assert excinfo.value.code == "forbidden"
    assert stored(chat) == before


def test_an_agent_cannot_post_to_a_queued_chat_without_taking_it() -> None:
    chat = start_chat()
    with pytest.raises(NotYourChat):
        post(chat, Participant.agent(AgentFactory()), "Hi")
    assert Message.objects.filter(chat=chat).count() == 2


def test_an_agent_cannot_learn_a_foreign_message_through_an_idempotent_resend() -> None:
    chat = active_chat(agent=AgentFactory())
    with pytest.raises(NotYourChat):
        post(chat, Participant.agent(AgentFactory()), "Where is my parcel?", "a-1")


def test_posting_to_a_chat_that_does_not_exist_is_chat_not_found() -> None:
    with pytest.raises(ChatNotFound):
        services.message_post(chat_id=987_654, sender=CUSTOMER, body="Hi", client_msg_id="")


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        pytest.param("", BodyEmpty, "body_empty", id="empty"),
        pytest.param("   ", BodyEmpty, "body_empty", id="spaces"),
        pytest.param("\n\t \r\n", BodyEmpty, "body_empty", id="whitespace"),
        pytest.param("\u00a0\u2003", BodyEmpty, "body_empty", id="unicode-spaces"),
        pytest.param("x" * (MESSAGE_MAX_LENGTH + 1), BodyTooLong, "body_too_long", id="4001"),
        pytest.param("a\x00b", BodyInvalid, "body_invalid", id="nul"),
        pytest.param("\x00", BodyInvalid, "body_invalid", id="only-nul"),
        pytest.param("a\ud800b", BodyInvalid, "body_invalid", id="lone-surrogate"),
    ],
)
@pytest.mark.parametrize("side", ["customer", "agent"])
def test_invalid_bodies_are_refused_and_nothing_is_stored(
    body: str, error: type, code: str, side: str
) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    sender = CUSTOMER if side == "customer" else Participant.agent(agent)
    before = stored(chat)
    with pytest.raises(error) as excinfo:
        post(chat, sender, body, "bad-1")
    assert excinfo.value.code == code
    assert stored(chat) == before
    chat.refresh_from_db()
    assert chat.last_seq == 3


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("x" * MESSAGE_MAX_LENGTH, id="4000-ascii"),
        pytest.param("é" * MESSAGE_MAX_LENGTH, id="4000-accented"),
        pytest.param("\U0001f600" * MESSAGE_MAX_LENGTH, id="4000-emoji"),
        pytest.param("x", id="one-char"),
    ],
)
def test_bodies_up_to_the_maximum_length_are_accepted(body: str) -> None:
    chat = start_chat()
    result = post(chat, CUSTOMER, body, "ok-1")
    assert result.created
    assert Message.objects.get(pk=result.message.pk).body == body


@pytest.mark.parametrize(
    "body",
    [
        '<script>alert("x")</script>',
        "<img src=x onerror=alert(1)>",
        "  leading and trailing spaces  ",
        "line one\nline two",
        "{{ request.user }} {% csrf_token %}",
        "Robert'); DROP TABLE chat_message;--",
        "\u202eright-to-left override",
    ],
)
def test_bodies_are_stored_verbatim(body: str) -> None:
    chat = start_chat()
    result = post(chat, CUSTOMER, body, "v-1")
    assert Message.objects.get(pk=result.message.pk).body == body


# --- Timers ------------------------------------------------------------------------------------


def test_the_first_agent_answer_is_recorded_once() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    assert Chat.objects.get(pk=chat.pk).first_agent_response_at is None

    before = timezone.now()
    post(chat, Participant.agent(agent), "Hi!")
    first = Chat.objects.get(pk=chat.pk).first_agent_response_at
    assert before <= first <= timezone.now()

    post(chat, CUSTOMER, "Thanks")
    post(chat, Participant.agent(agent), "Anything else?")
    assert Chat.objects.get(pk=chat.pk).first_agent_response_at == first


def test_awaiting_reply_since_follows_the_conversation() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    me = Participant.agent(agent)
    waiting_since = Chat.objects.get(pk=chat.pk).awaiting_reply_since
    assert waiting_since is not None

    # A second customer message does not restart the wait.
    post(chat, CUSTOMER, "Hello?")
    assert Chat.objects.get(pk=chat.pk).awaiting_reply_since == waiting_since

    # An agent's answer ends it...
    post(chat, me, "Hi!")
    assert Chat.objects.get(pk=chat.pk).awaiting_reply_since is None
    post(chat, me, "How can I help?")
    assert Chat.objects.get(pk=chat.pk).awaiting_reply_since is None

    # ...and the customer's next message starts a new one.
    before = timezone.now()
    post(chat, CUSTOMER, "My parcel")
    restarted = Chat.objects.get(pk=chat.pk).awaiting_reply_since
    assert before <= restarted <= timezone.now()


def test_last_customer_message_at_moves_with_each_customer_message_only() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    post(chat, CUSTOMER, "one")
    after_one = Chat.objects.get(pk=chat.pk).last_customer_message_at
    post(chat, Participant.agent(agent), "answer")
    assert Chat.objects.get(pk=chat.pk).last_customer_message_at == after_one
    post(chat, CUSTOMER, "two")
    assert Chat.objects.get(pk=chat.pk).last_customer_message_at > after_one


def test_a_resend_does_not_touch_the_timers() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    post(chat, CUSTOMER, "Hello", "c-1")
    post(chat, Participant.agent(agent), "Hi", "a-1")
    snapshot = Chat.objects.filter(pk=chat.pk).values(
        "awaiting_reply_since", "last_customer_message_at", "first_agent_response_at", "last_seq"
    )[0]
    post(chat, CUSTOMER, "Hello", "c-1")
    assert (
        Chat.objects.filter(pk=chat.pk).values(*snapshot)[0] == snapshot
    )  # the resend found the old message and changed nothing


# --- Publication and signals -----------------------------------------------------------------


def test_a_customer_message_in_the_queue_reaches_the_chat_and_the_queue(
    published, committed
) -> None:
    chat = start_chat(name="Ana Lima", email="ana@example.com")
    with committed():
        result = post(chat, CUSTOMER, "Anyone?", "c-1")
        assert published.calls == []
    # The customer, the topic's queue groups, then the consoles watching the chat.
    assert published.groups_of("message") == [
        [f"chat.{chat.pk}", f"queue.{chat.topic_id}", "queue.all", f"watch.{chat.pk}"]
    ]
    (frame,) = published.frames("message")
    assert frame == {
        "type": "message",
        "chat": chat.pk,
        "seq": result.message.seq,
        "kind": "customer",
        "body": "Anyone?",
        "author": "Ana Lima",
        "created_at": result.message.created_at.isoformat(),
        "client_msg_id": "c-1",
    }
    assert_customer_safe(frame, email="ana@example.com")


def test_messages_of_an_active_chat_reach_only_its_customer_agent_and_watchers(
    published, committed
) -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent)
    with committed():
        post(chat, CUSTOMER, "Hi", "c-1")
        post(chat, Participant.agent(agent), "Hello", "a-1")
    # Never the queue groups: the chat is taken.
    expected = [f"chat.{chat.pk}", f"agent.{agent.pk}", f"watch.{chat.pk}"]
    assert published.groups_of("message") == [expected, expected]
    agent_frame = published.frames("message")[1]
    assert (agent_frame["kind"], agent_frame["author"]) == ("agent", "Bruno")
    for frame in published.frames("message"):
        assert_customer_safe(frame)
    assert published.frames("chat") == []  # a message costs one frame, no chat frame


def test_a_resend_publishes_nothing_again(published, signals, committed) -> None:
    chat = start_chat()
    with committed():
        post(chat, CUSTOMER, "Hello", "c-1")
    assert len(published.frames("message")) == 1
    assert len(signals.of("message_posted")) == 1
    with committed():
        post(chat, CUSTOMER, "Hello", "c-1")
    assert len(published.frames("message")) == 1
    assert len(signals.of("message_posted")) == 1


def test_message_posted_fires_once_after_commit(signals, committed) -> None:
    chat = start_chat()
    with committed():
        result = post(chat, CUSTOMER, "Hello", "c-1")
        assert signals.sent == []
    assert signals.sent == [
        (
            "message_posted",
            {
                "chat_id": chat.pk,
                "message_id": result.message.pk,
                "kind": "customer",
                "queued": True,
            },
        )
    ]


def test_refused_or_rolled_back_posts_publish_nothing(published, signals, committed) -> None:
    chat = active_chat()
    # Made before: joining the Agents group schedules a console rescope of its own.
    stranger = AgentFactory()
    with committed() as callbacks:
        with pytest.raises(BodyEmpty):
            post(chat, CUSTOMER, " ")
        with pytest.raises(NotYourChat):
            post(chat, Participant.agent(stranger), "Hi")
        with pytest.raises(RuntimeError), transaction.atomic():
            post(chat, CUSTOMER, "Hello", "c-1")
            raise RuntimeError("boom")
    assert callbacks == [] and published.calls == [] and signals.sent == []
    assert not Message.objects.filter(chat=chat, client_msg_id="c-1").exists()
