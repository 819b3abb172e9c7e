"""Across a whole chat life: who hears what, and when (after commit, once, to the right groups)."""

import pytest

from chat import services
from chat.services import Participant
from tests.chat.frames import assert_customer_safe, walk_keys
from tests.factories import AgentFactory, TopicFactory

pytestmark = pytest.mark.django_db

CUSTOMER = Participant.customer()


@pytest.fixture
def whole_life(published, signals, committed):
    """Start, wait, take, talk, close: every step committed on its own."""
    agent = AgentFactory(first_name="Bruno", email="bruno@staff.example.com")
    with committed():
        chat = services.chat_start(
            topic=TopicFactory(),
            name="Ana Lima",
            email="ana@example.com",
            first_message="Where is my parcel?",
        )
    with committed():
        services.message_post(chat_id=chat.pk, sender=CUSTOMER, body="Hello?", client_msg_id="c1")
    with committed():
        services.chat_assign(chat_id=chat.pk, agent=agent, assigned_by=agent)
    with committed():
        services.message_post(
            chat_id=chat.pk, sender=Participant.agent(agent), body="Hi Ana", client_msg_id="a1"
        )
    with committed():
        services.message_post(chat_id=chat.pk, sender=CUSTOMER, body="Thanks", client_msg_id="c2")
    with committed():
        services.chat_close(chat_id=chat.pk, by=Participant.agent(agent))
    return chat, agent


def test_the_customer_group_never_receives_a_staff_frame(whole_life, published) -> None:
    chat, _ = whole_life
    customer_frames = published.frames(group=f"chat.{chat.pk}")
    assert customer_frames, "the customer heard nothing at all"
    for frame in customer_frames:
        assert_customer_safe(frame, email="ana@example.com")
        assert "bruno@staff.example.com" not in str(frame)
        assert "preview" not in walk_keys(frame)


def test_staff_frames_go_only_to_staff_groups(whole_life, published) -> None:
    chat, _ = whole_life
    staff_groups = {f"queue.{chat.topic_id}", "queue.all", f"watch.{chat.pk}"}
    staff_frames = [
        (groups, frame) for groups, frame in published.calls if "email" in walk_keys(frame)
    ]
    assert staff_frames
    for groups, frame in staff_frames:
        assert all(g in staff_groups or g.startswith("agent.") for g in groups), (groups, frame)


def test_the_customer_hears_every_message_in_order_without_gaps(whole_life, published) -> None:
    chat, _ = whole_life
    frames = published.frames("message", group=f"chat.{chat.pk}")
    # Every stored message, the greeting and the first question included, was pushed once, in
    # order, from 1 on.
    assert [f["seq"] for f in frames] == list(range(1, chat.messages.count() + 1))
    assert [(f["kind"], f["body"]) for f in frames] == [
        ("system", "Hi Ana, thanks for reaching out. An agent will be with you shortly."),
        ("customer", "Where is my parcel?"),
        ("customer", "Hello?"),
        ("system", "Bruno joined the chat."),
        ("agent", "Hi Ana"),
        ("customer", "Thanks"),
        ("system", "Chat ended by Bruno."),
    ]


def test_the_queue_stops_hearing_the_conversation_once_the_chat_is_taken(
    whole_life, published
) -> None:
    chat, agent = whole_life
    queue_groups = [f"queue.{chat.topic_id}", "queue.all"]
    watch_group = f"watch.{chat.pk}"
    for queue_group in queue_groups:
        queue_bodies = [f["body"] for f in published.frames("message", group=queue_group)]
        # Everything stored while the chat waited, the greeting and first question included.
        assert queue_bodies == [
            "Hi Ana, thanks for reaching out. An agent will be with you shortly.",
            "Where is my parcel?",
            "Hello?",
        ], queue_group
        # The queue hears the chat arrive and leave (taken), and nothing of it afterwards:
        # its close, once active, goes to its agent (and the consoles watching it) alone.
        assert [(f["id"], f["status"]) for f in published.frames("chat", group=queue_group)] == [
            (chat.pk, "queued"),
            (chat.pk, "active"),
        ], queue_group
    agent_frames = published.frames("chat", group=f"agent.{agent.pk}")
    assert [(f["id"], f["status"]) for f in agent_frames] == [
        (chat.pk, "active"),
        (chat.pk, "closed"),
    ]
    assert [groups for groups, frame in published.calls if "email" in walk_keys(frame)] == [
        [*queue_groups, watch_group],  # queued
        # Taken: the queues see it leave; the assignee's own group too, in case their console
        # opened before they had the topic's skill (then it does not follow that queue).
        [*queue_groups, f"agent.{agent.pk}", watch_group],
        [f"agent.{agent.pk}", watch_group],  # closed while active
    ]
    # Consoles watching the chat hear the whole conversation, before and after it is taken.
    watched = published.frames("message", group=watch_group)
    assert [f["seq"] for f in watched] == list(range(1, chat.messages.count() + 1))


def test_each_domain_signal_fires_once_per_change_in_order(whole_life, signals) -> None:
    chat, _ = whole_life
    assert [name for name in signals.names() if name != "message_posted"] == [
        "chat_queued",
        "chat_assigned",
        "chat_closed",
    ]
    assert all(kwargs["chat_id"] == chat.pk for _, kwargs in signals.sent)
    posted = [kwargs["message_id"] for kwargs in signals.of("message_posted")]
    assert len(posted) == len(set(posted))  # never twice for one message
    bodies = list(
        chat.messages.filter(pk__in=posted).order_by("seq").values_list("body", flat=True)
    )
    # Every stored message fired message_posted: the greeting, the first question and the
    # system messages included.
    assert sorted(posted) == sorted(chat.messages.values_list("pk", flat=True))
    assert bodies == [
        "Hi Ana, thanks for reaching out. An agent will be with you shortly.",
        "Where is my parcel?",
        "Hello?",
        "Bruno joined the chat.",
        "Hi Ana",
        "Thanks",
        "Chat ended by Bruno.",
    ]
