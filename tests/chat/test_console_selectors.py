"""console_chat_frames: an agent's console on (re)connect: their open chats, then the queue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import selectors, services
from chat.models import Chat
from chat.services import Participant
from tests.factories import AgentFactory, ChatFactory, MessageFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db


def ids(frames: list[dict]) -> list[int]:
    return [frame["id"] for frame in frames]


def make_chats(agent, count: int) -> None:
    """`count` of the agent's active chats and `count` queued ones, each with messages."""
    for _ in range(count):
        mine = ChatFactory(status=Chat.Status.ACTIVE, agent=agent, assigned_at=timezone.now())
        MessageFactory(chat=mine, body="mine")
        queued = ChatFactory()
        MessageFactory(chat=queued, body="waiting")
        MessageFactory(chat=queued, kind="system", body="greeting")


@pytest.mark.parametrize("count", [1, 20])
def test_the_snapshot_costs_two_queries_whatever_the_number_of_chats(
    count: int, django_assert_num_queries
) -> None:
    agent = AgentFactory()
    make_chats(agent, count)
    with django_assert_num_queries(2):
        frames = selectors.console_chat_frames(agent=agent)
    assert len(frames) == 2 * count
    assert all(f["preview"] in {"mine", "waiting"} for f in frames)


def test_own_active_chats_come_first_then_the_queue() -> None:
    agent = AgentFactory()
    queued = start_chat(message="Waiting here")
    mine = active_chat(agent=agent)
    frames = selectors.console_chat_frames(agent=agent)
    assert ids(frames) == [mine.pk, queued.pk]
    assert frames[0]["agent"]["id"] == agent.pk and frames[1]["agent"] is None
    assert frames[1]["preview"] == "Waiting here"


def test_other_agents_chats_and_closed_chats_are_left_out() -> None:
    agent = AgentFactory()
    someone_elses = active_chat()
    mine_closed = active_chat(agent=agent)
    services.chat_close(chat_id=mine_closed.pk, by=Participant.agent(agent))
    gave_up = start_chat()
    services.chat_close(chat_id=gave_up.pk, by=Participant.customer())

    frames = selectors.console_chat_frames(agent=agent)

    assert someone_elses.pk not in ids(frames)
    assert mine_closed.pk not in ids(frames)
    assert gave_up.pk not in ids(frames)
    assert frames == []


def test_the_queue_is_ordered_by_time_in_the_queue() -> None:
    agent = AgentFactory()
    now = timezone.now()
    newest = ChatFactory(queued_at=now - timedelta(minutes=1))
    oldest = ChatFactory(queued_at=now - timedelta(minutes=30))
    middle = ChatFactory(queued_at=now - timedelta(minutes=10))
    assert ids(selectors.console_chat_frames(agent=agent)) == [oldest.pk, middle.pk, newest.pk]


def test_a_chat_whose_agent_left_goes_to_the_front_of_the_queue() -> None:
    agent = AgentFactory()
    now = timezone.now()
    waiting = ChatFactory(queued_at=now - timedelta(minutes=30))
    requeued = ChatFactory(queued_at=now, queue_priority=1)
    assert ids(selectors.console_chat_frames(agent=agent)) == [requeued.pk, waiting.pk]


def test_own_chats_waiting_longest_come_first_and_answered_ones_last() -> None:
    # The same order on SQLite and PostgreSQL (they sort NULLs at opposite ends by default).
    agent = AgentFactory()
    now = timezone.now()

    def mine(waiting_for: timedelta | None) -> Chat:
        return ChatFactory(
            status=Chat.Status.ACTIVE,
            agent=agent,
            assigned_at=now,
            awaiting_reply_since=None if waiting_for is None else now - waiting_for,
        )

    answered = mine(None)
    short_wait = mine(timedelta(minutes=1))
    long_wait = mine(timedelta(minutes=20))
    assert ids(selectors.console_chat_frames(agent=agent)) == [
        long_wait.pk,
        short_wait.pk,
        answered.pk,
    ]


def test_the_queue_is_cut_at_the_limit(monkeypatch) -> None:
    monkeypatch.setattr(selectors, "CONSOLE_QUEUE_LIMIT", 3)
    agent = AgentFactory()
    now = timezone.now()
    chats = [ChatFactory(queued_at=now - timedelta(minutes=m)) for m in range(5)]
    # The three longest in the queue.
    assert ids(selectors.console_chat_frames(agent=agent)) == [c.pk for c in chats[:1:-1]]


def test_the_preview_is_the_last_customer_message_cut_to_140() -> None:
    agent = AgentFactory()
    chat = start_chat(message="first question")
    services.message_post(
        chat_id=chat.pk, sender=Participant.customer(), body="z" * 300, client_msg_id="2"
    )
    (frame,) = selectors.console_chat_frames(agent=agent)
    assert frame["preview"] == "z" * 140


def test_staff_frames_carry_what_the_console_needs() -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent, name="Ana Lima", email="ana@example.com")
    (frame,) = selectors.console_chat_frames(agent=agent)
    assert frame["type"] == "chat" and frame["status"] == "active"
    assert frame["customer"] == {"name": "Ana Lima", "email": "ana@example.com"}
    assert frame["agent"] == {"id": agent.pk, "name": "Bruno"}
    assert frame["topic"] == {
        "slug": chat.topic.slug,
        "name": chat.topic.name,
        "amber_after": 60,
        "red_after": 180,
    }
    assert frame["last_seq"] == 3
    for key in ("created_at", "assigned_at", "awaiting_reply_since", "last_customer_message_at"):
        assert frame[key] is not None
    assert frame["closed_at"] is None and frame["closed_by"] is None
