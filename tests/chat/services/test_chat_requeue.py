"""chat_requeue: an active chat whose agent left goes back to the front of the queue."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from chat import selectors, services
from chat.errors import ChatClosed, ChatNotFound, NotYourChat
from chat.models import Chat, ChatEvent, Message
from chat.services import Participant
from tests.chat.consumers.wsutil import db, frames_until, receive, receive_type, reload
from tests.chat.frames import assert_customer_safe, walk_keys
from tests.factories import AgentFactory, ChatFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db

CUSTOMER = Participant.customer()
REASON = "agent_offline"
STEPPED_AWAY = (
    "{name} had to step away. You keep your place at the front of the queue; "
    "another agent will be with you shortly."
)


def requeue(chat: Chat, reason: str = REASON) -> Chat:
    services.chat_requeue(chat_id=chat.pk, reason=reason)
    return Chat.objects.get(pk=chat.pk)


def last_message(chat: Chat) -> Message:
    return Message.objects.filter(chat=chat).order_by("-seq").first()


def ids(frames: list[dict]) -> list[int]:
    return [frame["id"] for frame in frames]


# --- State ---------------------------------------------------------------------------------------


def test_an_active_chat_goes_back_to_the_queue_at_the_front_without_its_agent() -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent)
    held = Chat.objects.get(pk=chat.pk)
    before = timezone.now()

    requeued = requeue(chat)

    assert requeued.status == Chat.Status.QUEUED
    assert requeued.agent is None
    assert requeued.queue_priority == 1
    assert before <= requeued.queued_at <= timezone.now()
    assert requeued.queued_at > held.queued_at
    assert (requeued.closed_at, requeued.closed_by) == (None, "")
    message = last_message(chat)
    assert (message.seq, message.kind, message.author, message.body) == (
        4,
        "system",
        None,
        STEPPED_AWAY.format(name="Bruno"),
    )
    # The customer keeps the whole history: nothing is lost, no gap in `seq`.
    assert requeued.last_seq == 4
    assert list(chat.messages.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4]


def test_a_customer_still_waiting_keeps_their_waiting_time() -> None:
    chat = active_chat()
    waiting_since = Chat.objects.get(pk=chat.pk).awaiting_reply_since
    assert waiting_since is not None
    assert requeue(chat).awaiting_reply_since == waiting_since


def test_a_customer_who_was_answered_starts_waiting_again() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    services.message_post(chat_id=chat.pk, sender=Participant.agent(agent), body="On it")
    assert Chat.objects.get(pk=chat.pk).awaiting_reply_since is None
    before = timezone.now()
    requeued = requeue(chat)
    assert before <= requeued.awaiting_reply_since <= timezone.now()


def test_an_agent_without_a_first_name_is_named_by_username() -> None:
    chat = active_chat(agent=AgentFactory(username="agent-x", first_name=""))
    requeue(chat)
    assert last_message(chat).body == STEPPED_AWAY.format(name="agent-x")


def test_the_requeue_is_on_the_timeline_with_its_reason_and_previous_agent() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    requeue(chat, reason="agent_logged_out")
    assert list(ChatEvent.objects.filter(chat=chat).values_list("kind", "actor", "data")) == [
        ("queued", None, {"topic": chat.topic.slug}),
        ("assigned", None, {"agent": agent.pk}),
        ("requeued", None, {"reason": "agent_logged_out", "previous_agent": agent.pk}),
    ]


# --- The queue's order ---------------------------------------------------------------------------


def test_a_requeued_chat_sorts_before_chats_that_waited_longer() -> None:
    viewer = AgentFactory()
    now = timezone.now()
    oldest = ChatFactory(queued_at=now - timedelta(hours=2))
    older = ChatFactory(queued_at=now - timedelta(minutes=30))
    started = start_chat()
    chat = active_chat()
    requeue(chat)
    assert ids(selectors.console_chat_frames(agent=viewer)) == [
        chat.pk,
        oldest.pk,
        older.pk,
        started.pk,
    ]


def test_chats_requeued_earlier_come_first_among_requeued_ones() -> None:
    viewer = AgentFactory()
    waiting = ChatFactory(queued_at=timezone.now() - timedelta(hours=1))
    first, second = active_chat(), active_chat()
    requeue(first)
    requeue(second)
    assert ids(selectors.console_chat_frames(agent=viewer)) == [first.pk, second.pk, waiting.pk]


def test_a_requeued_chat_is_shown_even_when_the_queue_is_cut(monkeypatch) -> None:
    monkeypatch.setattr(selectors, "CONSOLE_QUEUE_LIMIT", 2)
    viewer = AgentFactory()
    now = timezone.now()
    waiting = [ChatFactory(queued_at=now - timedelta(minutes=m)) for m in (30, 20, 10)]
    chat = active_chat()
    requeue(chat)
    assert ids(selectors.console_chat_frames(agent=viewer)) == [chat.pk, waiting[0].pk]


def test_the_previous_agent_sees_it_in_the_queue_not_among_their_chats() -> None:
    agent = AgentFactory()
    mine = active_chat(agent=agent)
    chat = active_chat(agent=agent)
    older = ChatFactory(queued_at=timezone.now() - timedelta(hours=1))
    requeue(chat)
    frames = selectors.console_chat_frames(agent=agent)
    assert [(f["id"], f["status"]) for f in frames] == [
        (mine.pk, "active"),
        (chat.pk, "queued"),
        (older.pk, "queued"),
    ]
    assert frames[1]["agent"] is None


# --- After the requeue ---------------------------------------------------------------------------


def test_the_previous_agent_can_no_longer_post_or_close() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    requeue(chat)
    with pytest.raises(NotYourChat) as excinfo:
        services.message_post(
            chat_id=chat.pk, sender=Participant.agent(agent), body="Still here", client_msg_id="a1"
        )
    assert excinfo.value.code == "forbidden"
    with pytest.raises(NotYourChat):
        services.chat_close(chat_id=chat.pk, by=Participant.agent(agent))
    again = Chat.objects.get(pk=chat.pk)
    assert (again.status, again.last_seq) == (Chat.Status.QUEUED, 4)


def test_the_customer_can_still_write_while_waiting_again() -> None:
    chat = active_chat()
    requeue(chat)
    result = services.message_post(
        chat_id=chat.pk, sender=CUSTOMER, body="Hello?", client_msg_id="c1"
    )
    assert (result.created, result.message.seq) == (True, 5)


def test_another_agent_can_take_it(published, committed) -> None:
    first = AgentFactory(first_name="Bruno")
    second = AgentFactory(first_name="Carla")
    chat = active_chat(agent=first)
    requeue(chat)

    with committed():
        services.chat_assign(chat_id=chat.pk, agent=second, assigned_by=second)

    taken = Chat.objects.get(pk=chat.pk)
    assert (taken.status, taken.agent) == (Chat.Status.ACTIVE, second)
    assert last_message(chat).body == "Carla joined the chat."
    assert taken.last_seq == 5
    # It left the queue, so every console following its topic's queue (the first agent's, who
    # has no skills, follows them all), the new agent's and every console watching it hears
    # it go.
    (staff_frame,) = published.frames("chat", group=f"queue.{chat.topic_id}")
    assert staff_frame["agent"] == {"id": second.pk, "name": "Carla"}
    assert published.groups_of("chat") == [
        [f"chat.{chat.pk}"],
        [f"queue.{chat.topic_id}", "queue.all", f"agent.{second.pk}", f"watch.{chat.pk}"],
    ]
    assert all(f"agent.{first.pk}" not in groups for groups, _ in published.calls)
    result = services.message_post(
        chat_id=chat.pk, sender=Participant.agent(second), body="Hi", client_msg_id="a1"
    )
    assert result.message.seq == 6
    assert list(ChatEvent.objects.filter(chat=chat).values_list("kind", flat=True)) == [
        "queued",
        "assigned",
        "requeued",
        "assigned",
    ]


def test_the_previous_agent_can_take_it_back() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    requeue(chat)
    services.chat_assign(chat_id=chat.pk, agent=agent)
    assert Chat.objects.get(pk=chat.pk).agent == agent


def test_it_can_be_requeued_again_after_another_take() -> None:
    first, second = AgentFactory(), AgentFactory()
    chat = active_chat(agent=first)
    requeue(chat)
    services.chat_assign(chat_id=chat.pk, agent=second)
    requeued = requeue(chat, reason="again")
    assert (requeued.status, requeued.agent, requeued.queue_priority) == ("queued", None, 1)
    assert ChatEvent.objects.get(chat=chat, data__reason="again").data == {
        "reason": "again",
        "previous_agent": second.pk,
    }


# --- Refusals and no-ops -------------------------------------------------------------------------


def test_requeueing_a_queued_chat_is_a_no_op(published, signals, committed) -> None:
    chat = start_chat()
    before = Chat.objects.get(pk=chat.pk)

    with committed() as callbacks:
        again = services.chat_requeue(chat_id=chat.pk, reason=REASON)

    assert again.pk == chat.pk and again.status == Chat.Status.QUEUED
    after = Chat.objects.get(pk=chat.pk)
    assert (after.queued_at, after.queue_priority, after.last_seq) == (
        before.queued_at,
        0,
        before.last_seq,
    )
    assert not ChatEvent.objects.filter(chat=chat, kind="requeued").exists()
    assert callbacks == [] and published.calls == [] and signals.sent == []


def test_requeueing_twice_changes_nothing_the_second_time(published, signals, committed) -> None:
    chat = active_chat()
    first = requeue(chat)
    with committed() as callbacks:
        services.chat_requeue(chat_id=chat.pk, reason="again")
    second = Chat.objects.get(pk=chat.pk)
    assert (second.queued_at, second.last_seq) == (first.queued_at, first.last_seq)
    assert ChatEvent.objects.filter(chat=chat, kind="requeued").count() == 1
    assert callbacks == [] and published.calls == [] and signals.sent == []


@pytest.mark.parametrize("state", ["closed-while-queued", "closed-while-active"])
def test_a_closed_chat_cannot_be_requeued(published, signals, committed, state: str) -> None:
    chat = start_chat() if state == "closed-while-queued" else active_chat()
    services.chat_close(chat_id=chat.pk, by=CUSTOMER)
    closed = Chat.objects.get(pk=chat.pk)

    with committed() as callbacks, pytest.raises(ChatClosed) as excinfo:
        services.chat_requeue(chat_id=chat.pk, reason=REASON)

    assert excinfo.value.code == "chat_closed"
    after = Chat.objects.get(pk=chat.pk)
    assert (after.status, after.agent_id, after.last_seq, after.queue_priority) == (
        Chat.Status.CLOSED,
        closed.agent_id,
        closed.last_seq,
        0,
    )
    assert not ChatEvent.objects.filter(chat=chat, kind="requeued").exists()
    assert callbacks == [] and published.calls == [] and signals.sent == []


def test_requeueing_a_chat_that_does_not_exist_is_chat_not_found() -> None:
    with pytest.raises(ChatNotFound) as excinfo:
        services.chat_requeue(chat_id=424_242, reason=REASON)
    assert excinfo.value.code == "chat_not_found"


def test_a_rolled_back_requeue_publishes_nothing(published, signals, committed) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    with committed() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        services.chat_requeue(chat_id=chat.pk, reason=REASON)
        raise RuntimeError("boom")
    assert callbacks == [] and published.calls == [] and signals.sent == []
    after = Chat.objects.get(pk=chat.pk)
    assert (after.status, after.agent, after.last_seq) == (Chat.Status.ACTIVE, agent, 3)
    assert not ChatEvent.objects.filter(chat=chat, kind="requeued").exists()


# --- Publication and signals ---------------------------------------------------------------------


def test_the_customer_and_every_console_hear_of_it_after_commit(published, committed) -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent, email="ana@example.com", message="Where is my parcel?")
    customer_group, agent_group = f"chat.{chat.pk}", f"agent.{agent.pk}"
    queue_groups = [f"queue.{chat.topic_id}", "queue.all"]
    watch_group = f"watch.{chat.pk}"

    with committed():
        services.chat_requeue(chat_id=chat.pk, reason=REASON)
        assert published.calls == []

    # Exactly these, in this order: the chat first, so consoles know it is queued again when
    # its message arrives. The chat frame goes to the topic's queue groups, then to the
    # previous agent's own group (they may not follow this queue: they see it leave them
    # either way), then to the consoles watching it; the message goes to the queue groups and
    # the watchers, no longer to the previous agent.
    # Routing's `queue` frames (tests/routing/test_queue_publication.py) are not chat's.
    assert [
        (groups, frame["type"]) for groups, frame in published.calls if frame["type"] != "queue"
    ] == [
        ([customer_group], "chat"),
        ([*queue_groups, agent_group, watch_group], "chat"),
        ([customer_group, *queue_groups, watch_group], "message"),
    ]

    (customer_frame,) = published.frames("chat", group=customer_group)
    assert customer_frame == {
        "type": "chat",
        "id": chat.pk,
        "status": "queued",
        "topic": {"slug": chat.topic.slug, "name": chat.topic.name},
        "agent": None,
        "customer": {"name": "Ana Lima"},
        "last_seq": 4,
        "closed_by": None,
    }

    (staff_frame,) = published.frames("chat", group=f"queue.{chat.topic_id}")
    assert (staff_frame["id"], staff_frame["status"], staff_frame["agent"]) == (
        chat.pk,
        "queued",
        None,
    )
    assert staff_frame["customer"] == {"name": "Ana Lima", "email": "ana@example.com"}
    assert staff_frame["awaiting_reply_since"] is not None
    assert staff_frame["closed_at"] is None and staff_frame["closed_by"] is None
    assert staff_frame["preview"] == "Where is my parcel?"
    assert staff_frame["last_seq"] == 4
    # An agent leaving is no transfer.
    assert (staff_frame["transfer_count"], staff_frame["transfer"]) == (0, None)

    (message,) = published.frames("message")
    assert message["chat"] == chat.pk
    assert (message["seq"], message["kind"], message["author"], message["body"]) == (
        4,
        "system",
        None,
        STEPPED_AWAY.format(name="Bruno"),
    )


def test_the_previous_agents_own_group_gets_the_chat_frame_and_nothing_else(
    published, committed
) -> None:
    # The previous agent may not follow the chat's queue: their own group hears the chat
    # leave them (a duplicate for a console that also follows the queue is accepted), but
    # not the conversation that goes on in the queue.
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    agent_group = f"agent.{agent.pk}"
    with committed():
        services.chat_requeue(chat_id=chat.pk, reason=REASON)
    assert published.calls
    to_agent = [(groups, frame) for groups, frame in published.calls if agent_group in groups]
    assert [(groups, frame["type"]) for groups, frame in to_agent] == [
        ([f"queue.{chat.topic_id}", "queue.all", agent_group, f"watch.{chat.pk}"], "chat")
    ]
    (frame,) = [frame for _, frame in to_agent]
    assert (frame["id"], frame["status"], frame["agent"]) == (chat.pk, "queued", None)
    for groups, _ in published.calls:
        assert len(groups) == len(set(groups)), groups
        assert set(groups) <= {
            f"chat.{chat.pk}",
            f"queue.{chat.topic_id}",
            "queue.all",
            agent_group,
            f"watch.{chat.pk}",
        }


def test_what_reaches_the_customer_is_customer_safe(published, committed) -> None:
    agent = AgentFactory(first_name="Bruno", last_name="Costa", email="bruno@staff.example.com")
    chat = active_chat(agent=agent, email="ana@example.com")
    with committed():
        services.chat_requeue(chat_id=chat.pk, reason="secret-internal-reason")
    customer_frames = published.frames(group=f"chat.{chat.pk}")
    # Routing's `queue` frame is checked in tests/routing/test_queue_publication.py.
    assert [f["type"] for f in customer_frames] == ["chat", "message", "queue"]
    for frame in customer_frames:
        assert_customer_safe(frame, email="ana@example.com")
        text = json.dumps(frame)
        for leak in ("bruno@staff.example.com", "Costa", "secret-internal-reason", agent.username):
            assert leak not in text, frame
        assert "preview" not in walk_keys(frame)
    # Staff frames (they carry the customer's email) never reach the customer's group.
    for groups, frame in published.calls:
        if "email" in walk_keys(frame):
            assert groups == [
                f"queue.{chat.topic_id}",
                "queue.all",
                f"agent.{agent.pk}",
                f"watch.{chat.pk}",
            ], (groups, frame)


def test_chat_queued_fires_with_requeued_then_message_posted_after_commit(
    signals, committed
) -> None:
    chat = active_chat()
    with committed():
        services.chat_requeue(chat_id=chat.pk, reason=REASON)
        assert signals.sent == []
    message = last_message(chat)
    assert signals.sent == [
        ("chat_queued", {"chat_id": chat.pk, "requeued": True}),
        (
            "message_posted",
            {"chat_id": chat.pk, "message_id": message.pk, "kind": "system", "queued": True},
        ),
    ]


# --- On the sockets ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_sockets_hear_it_and_the_previous_agents_console_is_refused(sockets) -> None:
    agent = await db(AgentFactory)(first_name="Bruno")
    colleague = await db(AgentFactory)(first_name="Carla")
    chat = await db(active_chat)(agent=agent, email="ana@example.com")
    console, _ = await sockets.console(agent)
    colleague_console, _ = await sockets.console(colleague)
    customer, _ = await sockets.customer(chat)

    await db(services.chat_requeue)(chat_id=chat.pk, reason=REASON)

    frames = await frames_until(customer, lambda f: f["type"] == "message")
    # Routing's `queue` frame (tests/routing/test_queue_publication.py) is not chat's.
    frames = [f for f in frames if f["type"] != "queue"]
    assert [f["type"] for f in frames] == ["chat", "message"]
    assert (frames[0]["status"], frames[0]["agent"]) == ("queued", None)
    assert frames[1]["body"] == STEPPED_AWAY.format(name="Bruno")
    for frame in frames:
        assert_customer_safe(frame, email="ana@example.com")
    for tab in (console, colleague_console):
        state = await receive_type(tab, "chat")
        assert (state["id"], state["status"], state["agent"]) == (chat.pk, "queued", None)
        assert (await receive_type(tab, "message"))["seq"] == 4

    await console.send_json_to(
        {"type": "message", "chat": chat.pk, "body": "Back!", "client_msg_id": "a-9"}
    )
    error = await receive(console)
    assert (error["type"], error["code"], error["chat"]) == ("error", "forbidden", chat.pk)

    await colleague_console.send_json_to({"type": "take", "chat": chat.pk})
    taken = await receive_type(colleague_console, "chat")
    assert (taken["status"], taken["agent"]) == ("active", {"id": colleague.pk, "name": "Carla"})
    assert (await receive_type(customer, "chat"))["agent"] == {"name": "Carla"}
    assert (await reload(chat)).agent_id == colleague.pk
