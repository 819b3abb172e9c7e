"""No-reply timeout: an active chat whose customer has waited for its agent's answer longer than
the topic's `reply_timeout_seconds` goes back to the front of the queue (reason `no_reply`),
and the drain gives it to another eligible agent, or back to the same one if nobody else can.

Every case pins its clock: the sweep is given `now`; timestamps are written relative to it.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from chat import services as chat_services
from chat.models import Chat, ChatEvent, Message
from chat.services import Participant
from routing import selectors, services, tasks
from routing.services import Assignment
from tests.factories import TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db

TIMEOUT = 60


@pytest.fixture
def topic():  # type: ignore[no-untyped-def]
    return TopicFactory(reply_timeout_seconds=TIMEOUT)


def held(agent, *, topic, waiting_since: datetime, assigned_at: datetime) -> Chat:  # type: ignore[no-untyped-def]
    """An active chat of `agent`, assigned at `assigned_at`, its customer unanswered since
    `waiting_since`."""
    chat = start_chat(topic=topic)
    chat_services.chat_assign(chat_id=chat.pk, agent=agent)
    Chat.objects.filter(pk=chat.pk).update(
        assigned_at=assigned_at, awaiting_reply_since=waiting_since
    )
    return chat


def reload(chat: Chat) -> Chat:
    return Chat.objects.select_related("agent").get(pk=chat.pk)


# --- Who times out ----------------------------------------------------------------------------


def test_a_chat_unanswered_past_the_timeout_goes_back_to_the_front_of_the_queue(topic) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    now = timezone.now()
    late = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(seconds=61),
        assigned_at=now - timedelta(seconds=300),
    )
    in_time = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(seconds=60),
        assigned_at=now - timedelta(seconds=300),
    )

    assert services.no_reply_sweep(now=now) == [late.pk]

    requeued = reload(late)
    assert (requeued.status, requeued.agent, requeued.queue_priority) == ("queued", None, 1)
    assert reload(in_time).status == "active"


def test_the_wait_counts_from_the_assignment_not_from_the_queue(topic) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    now = timezone.now()
    # Waited 10 minutes in the queue, given to the agent 30 s ago: the agent has 30 s left.
    chat = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(minutes=10),
        assigned_at=now - timedelta(seconds=30),
    )

    assert services.no_reply_sweep(now=now) == []
    assert services.no_reply_sweep(now=now + timedelta(seconds=31)) == [chat.pk]


def test_an_answered_chat_never_times_out(topic) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(hours=1),
        assigned_at=now - timedelta(hours=1),
    )
    chat_services.message_post(chat_id=chat.pk, sender=Participant.agent(agent), body="Hi!")

    assert services.no_reply_sweep(now=now + timedelta(hours=1)) == []
    assert reload(chat).status == "active"


def test_a_topic_without_a_timeout_never_times_out() -> None:
    topic = TopicFactory()  # reply_timeout_seconds defaults to 0: off
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(days=1),
        assigned_at=now - timedelta(days=1),
    )

    assert topic.reply_timeout_seconds == 0
    assert services.no_reply_sweep(now=now) == []
    assert reload(chat).status == "active"


def test_the_topics_timeout_is_read_at_every_sweep(topic) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(seconds=90),
        assigned_at=now - timedelta(seconds=90),
    )
    type(topic).objects.filter(pk=topic.pk).update(reply_timeout_seconds=120)
    assert services.no_reply_sweep(now=now) == []
    type(topic).objects.filter(pk=topic.pk).update(reply_timeout_seconds=89)
    assert services.no_reply_sweep(now=now) == [chat.pk]


def test_a_chat_answered_between_the_read_and_the_lock_stays(topic, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(seconds=90),
        assigned_at=now - timedelta(seconds=90),
    )
    stale = selectors.unanswered_chat_ids(now=now)
    chat_services.message_post(chat_id=chat.pk, sender=Participant.agent(agent), body="Here!")
    monkeypatch.setattr(selectors, "unanswered_chat_ids", lambda now=None: stale)

    assert services.no_reply_sweep(now=now) == []
    assert reload(chat).agent == agent


# --- What supervisors and the customer see ----------------------------------------------------


def test_supervisors_see_a_requeued_event_naming_the_agent_who_timed_out(topic) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(seconds=61),
        assigned_at=now - timedelta(seconds=61),
    )

    services.no_reply_sweep(now=now)

    event = ChatEvent.objects.get(chat=chat, kind=ChatEvent.Kind.REQUEUED)
    assert event.data == {"reason": "no_reply", "previous_agent": agent.pk}
    last = Message.objects.filter(chat=chat).last()
    assert last.kind == "system"
    assert last.body == (
        "Sorry for the wait. You keep your place at the front of the queue; "
        "another agent will be with you shortly."
    )


def test_frames_go_out_after_commit_to_the_right_audiences(topic, published, committed) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = held(
        agent,
        topic=topic,
        waiting_since=now - timedelta(seconds=61),
        assigned_at=now - timedelta(seconds=61),
    )
    published.calls.clear()

    with committed():
        services.no_reply_sweep(now=now)
        assert published.calls == []  # nothing before commit

    customer_group = f"chat.{chat.pk}"
    queue_groups = [f"queue.{topic.pk}", "queue.all"]
    watch_group = f"watch.{chat.pk}"
    first_chat_frame = published.frames("chat")[0]
    assert (first_chat_frame["status"], first_chat_frame["agent"]) == ("queued", None)
    # The staff frame goes to the topic's queue groups, then to the agent it left (who may not
    # follow that queue), then to the consoles watching it.
    assert published.groups_of("chat")[:2] == [
        [customer_group],
        [*queue_groups, f"agent.{agent.pk}", watch_group],
    ]
    (apology,) = [f for f in published.frames("message") if f["body"].startswith("Sorry")]
    assert published.calls[[f for _, f in published.calls].index(apology)][0] == [
        customer_group,
        *queue_groups,
        watch_group,
    ]
    # The only agent got it back (the fallback), after commit.
    assert reload(chat).agent == agent


# --- Never back to the same agent at once -----------------------------------------------------


def test_the_drain_gives_the_chat_to_another_eligible_agent(topic) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    slow = make_agent(topics=[topic], max_chats=3)
    other = make_agent(topics=[topic], max_chats=3)
    chat = held(
        slow,
        topic=topic,
        waiting_since=now - timedelta(seconds=61),
        assigned_at=now - timedelta(seconds=61),
    )
    # The policy alone would prefer `slow` (no open chat after the requeue; `other` holds one).
    held(other, topic=topic, waiting_since=now, assigned_at=now)

    services.no_reply_sweep(now=now)

    assert services.queue_drain() == [Assignment(chat_id=chat.pk, agent_id=other.pk)]


def test_the_same_agent_gets_it_back_when_no_other_agent_can_take_it(topic) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    slow = make_agent(topics=[topic])
    make_agent(topics=[topic], status="away")  # not eligible
    make_agent(topics=[TopicFactory()])  # not eligible: another topic
    chat = held(
        slow,
        topic=topic,
        waiting_since=now - timedelta(seconds=61),
        assigned_at=now - timedelta(seconds=61),
    )

    services.no_reply_sweep(now=now)

    assert services.queue_drain() == [Assignment(chat_id=chat.pk, agent_id=slow.pk)]
    assert reload(chat).assigned_at > now  # a fresh timeout from now on


def test_the_exclusion_holds_for_that_chat_only(topic) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    slow = make_agent(topics=[topic])
    other = make_agent(topics=[topic])
    timed_out = held(
        slow,
        topic=topic,
        waiting_since=now - timedelta(seconds=61),
        assigned_at=now - timedelta(seconds=61),
    )
    services.no_reply_sweep(now=now)
    waiting = start_chat(topic=topic)

    # The timed-out chat (front of the queue) goes to `other`; `slow` may take new work.
    assert services.queue_drain() == [
        Assignment(chat_id=timed_out.pk, agent_id=other.pk),
        Assignment(chat_id=waiting.pk, agent_id=slow.pk),
    ]


def test_a_later_requeue_for_another_reason_lifts_the_exclusion(topic) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    first = make_agent(topics=[topic])
    second = make_agent(topics=[topic])
    chat = held(
        first,
        topic=topic,
        waiting_since=now - timedelta(seconds=61),
        assigned_at=now - timedelta(seconds=61),
    )
    services.no_reply_sweep(now=now)
    assert services.queue_drain() == [Assignment(chat_id=chat.pk, agent_id=second.pk)]
    # `second` leaves: the chat is requeued again, and nobody is excluded any more.
    chat_services.chat_requeue(chat_id=chat.pk, reason="agent_left")

    assert selectors.timed_out_agent_id(chat_id=chat.pk, queued_at=reload(chat).queued_at) is None
    assert services.queue_drain()[0].chat_id == chat.pk


# --- Who runs the sweep -----------------------------------------------------------------------


def test_the_task_requeues_unanswered_chats(topic) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    past = timezone.now() - timedelta(seconds=TIMEOUT + 5)
    held(agent, topic=topic, waiting_since=past, assigned_at=past)
    assert tasks.no_reply_sweep() == 1


def test_the_presence_sweep_also_requeues_unanswered_chats(topic) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(topics=[topic])
    past = timezone.now() - timedelta(seconds=TIMEOUT + 5)
    chat = held(agent, topic=topic, waiting_since=past, assigned_at=past)
    services.presence_sweep()
    assert ChatEvent.objects.filter(chat=chat, kind="requeued", data__reason="no_reply").exists()
