"""`queue` frames: published after commit, to each queued chat's customer group only, whenever
the topic's queue or its agents change."""

import pytest

from chat import services as chat_services
from chat.services import Participant
from routing import services
from routing.models import AgentProfile
from tests.factories import TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_handling(settings) -> None:
    settings.HELPDESK_DEFAULT_HANDLING_SECONDS = 300


def frame(chat, position, wait, available) -> dict:
    return {
        "type": "queue",
        "chat": chat.pk,
        "position": position,
        "estimated_wait_seconds": wait,
        "agents_available": available,
        # No business hours and no wait threshold here: offered only when nobody can answer.
        "message_offered": wait is None,
    }


def queue_calls(published) -> list[tuple[list[str], dict]]:
    return [(groups, f) for groups, f in published.calls if f["type"] == "queue"]


def latest(published) -> dict[int, dict]:
    """The last queue frame each chat got."""
    return {f["chat"]: f for _, f in queue_calls(published)}


def assert_customer_groups_only(published) -> None:
    for groups, f in queue_calls(published):
        assert groups == [f"chat.{f['chat']}"], (groups, f)


def test_a_new_chat_hears_its_place_after_commit_only(published, committed) -> None:
    topic = TopicFactory()
    with committed():
        chat = start_chat(topic=topic)
        assert published.calls == []

    assert queue_calls(published) == [([f"chat.{chat.pk}"], frame(chat, 1, None, False))]


def test_a_new_chat_hears_its_place_and_the_chats_ahead_keep_theirs(published, committed) -> None:
    returns, billing = TopicFactory(), TopicFactory()
    make_agent(topics=[returns], status=AgentProfile.Status.AWAY)
    start_chat(topic=returns), start_chat(topic=returns)
    b1 = start_chat(topic=billing)

    with committed():
        a3 = start_chat(topic=returns)

    # Nothing changed for the chats ahead of it: one frame per start, not one per queued chat.
    assert queue_calls(published) == [([f"chat.{a3.pk}"], frame(a3, 3, None, False))]
    assert b1.pk not in latest(published)


def test_an_agent_coming_online_takes_the_first_and_the_rest_move_up(published, committed) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], status=AgentProfile.Status.AWAY, max_chats=1)
    first, second, third = (start_chat(topic=topic) for _ in range(3))

    with committed():
        services.agent_status_set(agent=agent, status=AgentProfile.Status.ONLINE)

    assert_customer_groups_only(published)
    last = latest(published)
    # The first chat was assigned: its customer is told by the chat frame, not a queue frame
    # published after the assignment.
    assert last[second.pk] == frame(second, 1, 300, True)
    assert last[third.pk] == frame(third, 2, 600, True)
    assert [f["chat"] for _, f in queue_calls(published)][-2:] == [second.pk, third.pk]
    assert all(f["chat"] != first.pk for _, f in queue_calls(published)[-2:])


def test_a_chat_closed_while_queued_moves_the_others_up(published, committed) -> None:
    topic = TopicFactory()
    first, second, third = (start_chat(topic=topic) for _ in range(3))

    with committed():
        chat_services.chat_close(chat_id=first.pk, by=Participant.customer())

    assert queue_calls(published) == [
        ([f"chat.{second.pk}"], frame(second, 1, None, False)),
        ([f"chat.{third.pk}"], frame(third, 2, None, False)),
    ]


def test_an_agent_going_away_leaves_the_customers_without_an_estimate(published, committed) -> None:
    topic = TopicFactory()
    # Full: keeps the chats in the queue while online.
    agent = make_agent(topics=[topic], max_chats=1)
    with committed():
        start_chat(topic=topic)  # assigned at once
        waiting = start_chat(topic=topic)
    assert latest(published)[waiting.pk] == frame(waiting, 1, 300, True)
    published.calls.clear()

    with committed():
        services.agent_status_set(agent=agent, status=AgentProfile.Status.AWAY)

    assert queue_calls(published) == [([f"chat.{waiting.pk}"], frame(waiting, 1, None, False))]


def test_a_generalist_going_away_updates_every_topic(published, committed) -> None:
    returns, billing = TopicFactory(), TopicFactory()
    agent = make_agent(topics=[], max_chats=1)
    with committed():
        start_chat(topic=returns)  # assigned at once: the agent is full
        r, b = start_chat(topic=returns), start_chat(topic=billing)
    published.calls.clear()

    with committed():
        services.agent_status_set(agent=agent, status=AgentProfile.Status.AWAY)

    assert latest(published) == {
        r.pk: frame(r, 1, None, False),
        b.pk: frame(b, 1, None, False),
    }
    assert_customer_groups_only(published)


def test_a_rolled_back_change_publishes_nothing(published, committed) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=1)
    start_chat(topic=topic)
    with committed() as callbacks, pytest.raises(RuntimeError):
        from django.db import transaction

        with transaction.atomic():
            services.agent_status_set(agent=agent, status=AgentProfile.Status.AWAY)
            raise RuntimeError("boom")
    assert callbacks == [] and queue_calls(published) == []


def test_publishing_a_topic_takes_a_constant_number_of_queries(
    published, committed, django_assert_num_queries
) -> None:
    topic = TopicFactory()
    make_agent(topics=[topic])
    AgentProfile.objects.update(status=AgentProfile.Status.AWAY)
    for _ in range(10):
        start_chat(topic=topic)

    with django_assert_num_queries(3), committed():
        services.queue_publish(topic_ids=[topic.pk])
    assert len(queue_calls(published)) == 10
