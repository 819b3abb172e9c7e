"""Supervisors see chats that need attention: a customer waiting past the topic's red
threshold (flagged once per wait) and a chat its agent left unanswered (no-reply timeout).

The sweep is given `now`; timestamps are written relative to it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services as chat_services
from chat.models import Chat, ChatEvent
from chat.services import Participant
from routing import attention, services
from tests.chat.consumers.wsutil import db, receive_type, round_trip
from tests.factories import AgentFactory, SupervisorFactory, TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

RED = 180


@pytest.fixture
def topic():  # type: ignore[no-untyped-def]
    return TopicFactory(amber_after_seconds=60, red_after_seconds=RED)


def waiting(topic, *, seconds: int, agent=None) -> Chat:  # type: ignore[no-untyped-def]
    """A chat whose customer has waited `seconds` for an answer (queued, or with `agent`)."""
    chat = start_chat(topic=topic)
    if agent is not None:
        chat_services.chat_assign(chat_id=chat.pk, agent=agent)
    Chat.objects.filter(pk=chat.pk).update(
        awaiting_reply_since=timezone.now() - timedelta(seconds=seconds)
    )
    return chat


def flags(chat: Chat) -> list[dict]:
    return list(
        ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.FLAGGED).values_list(
            "data", flat=True
        )
    )


@pytest.mark.django_db
def test_a_chat_past_red_is_flagged_once_per_wait(topic) -> None:
    agent = make_agent(topics=[topic])
    late = waiting(topic, seconds=RED + 5, agent=agent)
    in_time = waiting(topic, seconds=RED - 5, agent=agent)
    queued_late = waiting(topic, seconds=RED + 1)

    assert attention.red_flag_sweep() == [late.pk, queued_late.pk]
    assert attention.red_flag_sweep() == []

    assert [f["reason"] for f in flags(late)] == ["red"]
    assert flags(late)[0]["waited"] >= RED + 5
    assert flags(in_time) == []


@pytest.mark.django_db
def test_a_new_wait_can_be_flagged_again(topic) -> None:
    agent = make_agent(topics=[topic])
    chat = waiting(topic, seconds=600, agent=agent)
    attention.red_flag_sweep()
    # That flag was raised long ago, in the first wait; then the agent answered.
    ChatEvent.objects.filter(chat=chat).update(created_at=timezone.now() - timedelta(seconds=400))
    chat_services.message_post(chat_id=chat.pk, sender=Participant.agent(agent), body="Here!")
    chat_services.message_post(chat_id=chat.pk, sender=Participant.customer(), body="And?")
    Chat.objects.filter(pk=chat.pk).update(
        awaiting_reply_since=timezone.now() - timedelta(seconds=RED + 1)
    )

    assert attention.red_flag_sweep() == [chat.pk]
    assert [f["reason"] for f in flags(chat)] == ["red", "red"]


@pytest.mark.django_db
def test_answered_and_closed_chats_are_never_flagged(topic) -> None:
    agent = make_agent(topics=[topic])
    answered = waiting(topic, seconds=RED + 5, agent=agent)
    chat_services.message_post(chat_id=answered.pk, sender=Participant.agent(agent), body="Hi")
    closed = waiting(topic, seconds=RED + 5)
    chat_services.chat_close(chat_id=closed.pk, by=Participant.customer())

    assert attention.red_flag_sweep() == []


@pytest.mark.django_db
def test_the_alert_goes_to_supervisors_only_after_commit(topic, published, committed) -> None:
    chat = waiting(topic, seconds=RED + 5)
    published.calls.clear()

    with committed():
        attention.red_flag_sweep()
        assert published.calls == []

    ((groups, frame),) = [(g, f) for g, f in published.calls if f["type"] == "alert"]
    assert groups == ["supervisors"]
    assert frame["reason"] == "red" and frame["chat"]["id"] == chat.pk
    assert frame["waited_seconds"] >= RED + 5
    assert frame["chat"]["topic"]["red_after"] == RED


@pytest.mark.django_db
def test_the_no_reply_timeout_is_flagged_to_supervisors(published, committed) -> None:
    topic = TopicFactory(reply_timeout_seconds=60)
    agent = make_agent(topics=[topic])
    chat = waiting(topic, seconds=90, agent=agent)
    Chat.objects.filter(pk=chat.pk).update(assigned_at=timezone.now() - timedelta(seconds=300))

    with committed():
        assert services.no_reply_sweep() == [chat.pk]

    assert flags(chat) == [
        {"reason": "no_reply", "waited": flags(chat)[0]["waited"], "previous_agent": agent.pk}
    ]
    alerts = [(g, f) for g, f in published.calls if f["type"] == "alert"]
    assert [(g, f["reason"], f["chat"]["id"]) for g, f in alerts] == [
        (["supervisors"], "no_reply", chat.pk)
    ]


@pytest.mark.django_db
def test_the_attention_list_costs_two_queries_whatever_its_length(
    topic, django_assert_num_queries
) -> None:
    supervisor = SupervisorFactory()
    agent = make_agent(topics=[topic])
    chats = [waiting(topic, seconds=RED + 10 + i, agent=agent) for i in range(3)]
    chats += [waiting(topic, seconds=RED + 20 + i) for i in range(3)]
    waiting(topic, seconds=10)
    attention.red_flag_sweep()

    with django_assert_num_queries(2):
        frame = attention.attention_frame(user=supervisor)

    assert [item["chat"]["id"] for item in frame["chats"]] == [c.pk for c in reversed(chats)][
        :3
    ] + [c.pk for c in reversed(chats)][3:]
    assert {item["reason"] for item in frame["chats"]} == {"red"}


@pytest.mark.django_db(transaction=True)
async def test_a_supervisor_console_asks_for_the_list_and_hears_new_alerts(sockets, topic) -> None:
    chat = await db(waiting)(topic, seconds=RED + 5)
    await db(attention.red_flag_sweep)()
    # Away: the router gives them nothing while the test reads the console.
    lead = await db(make_agent)(topics=[topic], present=False, status="away")
    await db(lambda: lead.groups.add(*SupervisorFactory().groups.all()))()
    console, _ = await sockets.console(lead)

    listing = await round_trip(console, {"type": "attention"})
    assert listing["type"] == "attention"
    assert [(i["reason"], i["chat"]["id"]) for i in listing["chats"]] == [("red", chat.pk)]

    later = await db(waiting)(topic, seconds=RED + 1)
    await db(attention.red_flag_sweep)()
    alert = await receive_type(console, "alert")
    assert alert["chat"]["id"] == later.pk


@pytest.mark.django_db(transaction=True)
async def test_an_agent_who_is_not_a_supervisor_is_refused(sockets, topic) -> None:
    console, _ = await sockets.console(await db(AgentFactory)())

    reply = await round_trip(console, {"type": "attention"})

    assert reply["type"] == "error" and reply["code"] == "forbidden"
