"""chat_close: a chat ends once, says who ended it, and everyone concerned hears of it."""

import pytest
from django.db import transaction
from django.utils import timezone

from chat import services
from chat.errors import ChatClosed, ChatNotFound, NotYourChat
from chat.models import Chat, ChatEvent, Message
from chat.services import Participant
from tests.chat.frames import assert_customer_safe, walk_keys
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db

CUSTOMER = Participant.customer()


def close(chat: Chat, by: Participant) -> Chat:
    services.chat_close(chat_id=chat.pk, by=by)
    return Chat.objects.get(pk=chat.pk)


def last_message(chat: Chat) -> Message:
    return Message.objects.filter(chat=chat).order_by("-seq").first()


def test_the_customer_can_end_a_queued_chat() -> None:
    chat = start_chat(name="Ana Lima")
    before = timezone.now()
    closed = close(chat, CUSTOMER)
    assert closed.status == Chat.Status.CLOSED
    assert before <= closed.closed_at <= timezone.now()
    assert (closed.closed_by, closed.closed_by_user) == ("customer", None)
    assert closed.awaiting_reply_since is None
    message = last_message(chat)
    assert (message.seq, message.kind, message.body) == (3, "system", "Chat ended by Ana.")
    assert closed.last_seq == 3


def test_the_agent_can_end_their_chat() -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent)
    closed = close(chat, Participant.agent(agent))
    assert (closed.closed_by, closed.closed_by_user) == ("agent", agent)
    assert closed.agent == agent  # who held it stays on record
    assert last_message(chat).body == "Chat ended by Bruno."


def test_the_system_can_end_any_open_chat() -> None:
    for chat in (start_chat(), active_chat()):
        closed = close(chat, Participant.system())
        assert (closed.closed_by, closed.closed_by_user) == ("system", None)
        assert last_message(chat).body == "Chat ended."


def test_the_close_is_on_the_timeline() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    close(chat, Participant.agent(agent))
    assert list(ChatEvent.objects.filter(chat=chat).values_list("kind", "actor", "data")) == [
        ("queued", None, {"topic": chat.topic.slug}),
        ("assigned", None, {"agent": agent.pk}),
        ("closed", agent.pk, {"by": "agent"}),
    ]


def test_a_customer_close_records_no_actor() -> None:
    chat = start_chat()
    close(chat, CUSTOMER)
    event = ChatEvent.objects.get(chat=chat, kind="closed")
    assert (event.actor, event.data) == (None, {"by": "customer"})


def test_closing_twice_is_chat_closed_and_changes_nothing() -> None:
    chat = start_chat()
    first = close(chat, CUSTOMER)
    with pytest.raises(ChatClosed) as excinfo:
        services.chat_close(chat_id=chat.pk, by=Participant.system())
    assert excinfo.value.code == "chat_closed"
    again = Chat.objects.get(pk=chat.pk)
    assert (again.closed_at, again.closed_by, again.last_seq) == (
        first.closed_at,
        "customer",
        first.last_seq,
    )
    assert ChatEvent.objects.filter(chat=chat, kind="closed").count() == 1
    assert Message.objects.filter(chat=chat).count() == first.last_seq


@pytest.mark.parametrize("state", ["queued", "someone-elses"])
def test_an_agent_cannot_end_a_chat_that_is_not_theirs(state: str) -> None:
    chat = start_chat() if state == "queued" else active_chat()
    with pytest.raises(NotYourChat) as excinfo:
        services.chat_close(chat_id=chat.pk, by=Participant.agent(AgentFactory()))
    assert excinfo.value.code == "forbidden"
    assert Chat.objects.get(pk=chat.pk).status != Chat.Status.CLOSED
    assert not ChatEvent.objects.filter(chat=chat, kind="closed").exists()


def test_closing_a_chat_that_does_not_exist_is_chat_not_found() -> None:
    with pytest.raises(ChatNotFound):
        services.chat_close(chat_id=424_242, by=CUSTOMER)


def test_sequence_numbers_stay_gap_free_through_the_whole_life() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    services.message_post(chat_id=chat.pk, sender=CUSTOMER, body="a", client_msg_id="1")
    services.message_post(chat_id=chat.pk, sender=Participant.agent(agent), body="b")
    closed = close(chat, CUSTOMER)
    seqs = list(Message.objects.filter(chat=chat).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, closed.last_seq + 1)) == [1, 2, 3, 4, 5, 6]


# --- Publication and signals -----------------------------------------------------------------


def test_everyone_concerned_hears_of_it_after_commit(published, committed) -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent, email="ana@example.com")
    customer_group, agent_group = f"chat.{chat.pk}", f"agent.{agent.pk}"
    watch_group = f"watch.{chat.pk}"

    with committed():
        services.chat_close(chat_id=chat.pk, by=CUSTOMER)
        assert published.calls == []

    (message,) = published.frames("message")
    assert (message["kind"], message["body"]) == ("system", "Chat ended by Ana.")
    assert published.groups_of("message") == [[customer_group, agent_group, watch_group]]

    (customer_frame,) = published.frames("chat", group=customer_group)
    assert_customer_safe(customer_frame, email="ana@example.com")
    assert (customer_frame["status"], customer_frame["closed_by"]) == ("closed", "customer")
    assert customer_frame["last_seq"] == message["seq"]

    # The chat is active: its change reaches its agent's consoles (and consoles watching it)
    # only, never the queue.
    (staff_frame,) = published.frames("chat", group=agent_group)
    assert [g for groups, _ in published.calls for g in groups if g.startswith("queue")] == []
    assert staff_frame["id"] == chat.pk
    assert staff_frame["status"] == "closed" and staff_frame["closed_at"] is not None
    assert staff_frame["closed_by"] == "customer"
    assert staff_frame["agent"] == {"id": agent.pk, "name": "Bruno"}
    assert staff_frame["customer"]["email"] == "ana@example.com"
    assert staff_frame["awaiting_reply_since"] is None
    assert staff_frame["last_seq"] == message["seq"]
    assert published.groups_of("chat") == [[customer_group], [agent_group, watch_group]]
    assert [(groups, frame["type"]) for groups, frame in published.calls] == [
        ([customer_group, agent_group, watch_group], "message"),
        ([customer_group], "chat"),
        ([agent_group, watch_group], "chat"),
    ]


@pytest.mark.parametrize(
    "by", ["customer", "agent", "system"], ids=["by-customer", "by-agent", "by-system"]
)
def test_closing_an_active_chat_tells_its_agent_only_and_not_the_queue(
    published, committed, by: str
) -> None:
    agent = AgentFactory(first_name="Bruno")
    other = AgentFactory()
    chat = active_chat(agent=agent, email="ana@example.com")
    closer = {
        "customer": CUSTOMER,
        "agent": Participant.agent(agent),
        "system": Participant.system(),
    }[by]

    with committed():
        services.chat_close(chat_id=chat.pk, by=closer)
        assert published.calls == []

    customer_group, agent_group = f"chat.{chat.pk}", f"agent.{agent.pk}"
    watch_group = f"watch.{chat.pk}"
    # Not a single frame for any queue, nor for any other agent.
    for groups, _ in published.calls:
        assert not any(group.startswith("queue") for group in groups)
        assert f"queue.{chat.topic_id}" not in groups and "queue.all" not in groups
        assert f"agent.{other.pk}" not in groups
        assert set(groups) <= {customer_group, agent_group, watch_group}
    # The staff frame, which carries the customer's email, reaches the agent's group and the
    # consoles watching the chat alone.
    staff_frames = [f for f in published.frames("chat") if "email" in walk_keys(f)]
    assert staff_frames == published.frames("chat", group=agent_group)
    (staff_frame,) = staff_frames
    assert (staff_frame["id"], staff_frame["status"], staff_frame["closed_by"]) == (
        chat.pk,
        "closed",
        by,
    )
    assert published.groups_of("chat") == [[customer_group], [agent_group, watch_group]]
    for frame in published.frames(group=customer_group):
        assert_customer_safe(frame, email="ana@example.com")


def test_a_queued_chat_that_ends_leaves_the_queue(published, committed) -> None:
    chat = start_chat()
    with committed():
        services.chat_close(chat_id=chat.pk, by=CUSTOMER)
    (staff_frame,) = published.frames("chat", group=f"queue.{chat.topic_id}")
    assert staff_frame["status"] == "closed" and staff_frame["agent"] is None
    assert published.groups_of("chat") == [
        [f"chat.{chat.pk}"],
        [f"queue.{chat.topic_id}", "queue.all", f"watch.{chat.pk}"],
    ]


def test_chat_closed_fires_once_after_commit(signals, committed) -> None:
    chat = start_chat()
    with committed():
        services.chat_close(chat_id=chat.pk, by=CUSTOMER)
        assert signals.sent == []
    assert signals.of("chat_closed") == [{"chat_id": chat.pk}]
    assert signals.names().count("chat_closed") == 1


def test_refused_or_rolled_back_closes_publish_nothing(published, signals, committed) -> None:
    chat = start_chat()
    closed_already = start_chat()
    services.chat_close(chat_id=closed_already.pk, by=CUSTOMER)
    with committed() as callbacks:
        with pytest.raises(ChatClosed):
            services.chat_close(chat_id=closed_already.pk, by=CUSTOMER)
        with pytest.raises(RuntimeError), transaction.atomic():
            services.chat_close(chat_id=chat.pk, by=CUSTOMER)
            raise RuntimeError("boom")
    assert callbacks == [] and published.calls == [] and signals.sent == []
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.QUEUED
