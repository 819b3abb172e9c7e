"""Each console follows the queue of its agent's topics only; supervisors and agents without
skills follow every topic. Over real console sockets (the in-memory channel layer)."""

import pytest

from chat import services
from tests.chat.consumers.wsutil import db, pong_next, receive, round_trip
from tests.factories import SupervisorFactory, TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _manual(settings) -> None:
    # Nothing is assigned behind the test's back: the queue stays as the test builds it.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"


@pytest.fixture
def topics(db) -> tuple:
    return TopicFactory(name="Returns"), TopicFactory(name="Billing")


def queued_ids(snapshot: dict) -> list[int]:
    return [chat["id"] for chat in snapshot["chats"] if chat["status"] == "queued"]


async def test_the_snapshot_holds_only_the_queue_of_the_agents_topics(sockets, topics) -> None:
    returns, billing = topics
    returns_chat = await db(start_chat)(topic=returns)
    await db(start_chat)(topic=billing)
    agent = await db(make_agent)(topics=[returns], present=False)

    _, snapshot = await sockets.console(agent)

    assert queued_ids(snapshot) == [returns_chat.pk]


async def test_an_agent_without_skills_sees_every_topic(sockets, topics) -> None:
    returns, billing = topics
    first = await db(start_chat)(topic=returns)
    second = await db(start_chat)(topic=billing)
    agent = await db(make_agent)(present=False)

    _, snapshot = await sockets.console(agent)

    assert queued_ids(snapshot) == [first.pk, second.pk]


async def test_new_chats_of_other_topics_never_reach_the_console(sockets, topics) -> None:
    returns, billing = topics
    agent = await db(make_agent)(topics=[returns], present=False)
    console, _ = await sockets.console(agent)

    billing_chat = await db(start_chat)(topic=billing, message="Invoice?")
    returns_chat = await db(start_chat)(topic=returns, message="Refund?")

    frames = []
    while not (frames and frames[-1].get("body") == "Refund?"):
        frames.append(await receive(console))
    assert {f.get("chat", f.get("id")) for f in frames} == {returns_chat.pk}
    await pong_next(console)
    assert billing_chat.pk not in {f.get("chat", f.get("id")) for f in frames}


async def test_a_supervisor_console_follows_every_topic(sockets, topics) -> None:
    returns, billing = topics
    # A team lead who also takes chats: in both groups, with a skill of their own.
    supervisor = await db(make_agent)(topics=[returns], present=False)
    await db(lambda: supervisor.groups.add(*SupervisorFactory().groups.all()))()
    console, _ = await sockets.console(supervisor)

    billing_chat = await db(start_chat)(topic=billing, message="Invoice?")

    frame = await receive(console)
    assert frame["type"] == "chat" and frame["id"] == billing_chat.pk


async def test_reading_a_queued_chat_of_another_topic_is_not_found(sockets, topics) -> None:
    returns, billing = topics
    billing_chat = await db(start_chat)(topic=billing)
    agent = await db(make_agent)(topics=[returns], present=False)
    console, _ = await sockets.console(agent)

    reply = await round_trip(console, {"type": "resume", "chat": billing_chat.pk, "after_seq": 0})

    assert reply["type"] == "error" and reply["code"] == "chat_not_found"


async def test_taking_a_chat_of_another_topic_is_refused_and_changes_nothing(
    sockets, topics
) -> None:
    returns, billing = topics
    billing_chat = await db(start_chat)(topic=billing)
    agent = await db(make_agent)(topics=[returns], present=False)
    console, _ = await sockets.console(agent)

    reply = await round_trip(console, {"type": "take", "chat": billing_chat.pk})

    assert reply["type"] == "error" and reply["code"] == "not_your_topic"
    assert reply["chat"] == billing_chat.pk
    await db(billing_chat.refresh_from_db)()
    assert billing_chat.status == "queued" and billing_chat.agent_id is None


async def test_an_agent_takes_a_chat_of_their_topic(sockets, topics) -> None:
    returns, _ = topics
    chat = await db(start_chat)(topic=returns)
    agent = await db(make_agent)(topics=[returns], present=False)
    console, _ = await sockets.console(agent)

    await console.send_json_to({"type": "take", "chat": chat.pk})

    frame = await receive(console)
    while frame["type"] != "chat":
        frame = await receive(console)
    assert frame["status"] == "active" and frame["agent"]["id"] == agent.pk


def test_the_router_and_a_transfer_are_not_bound_by_the_take_rule(topics) -> None:
    """Only a take by hand is limited to the agent's skills: a colleague may hand over a chat
    of any topic (capacity still applies)."""
    returns, billing = topics
    sender = make_agent(topics=[billing])
    receiver = make_agent(topics=[returns])
    chat = services.chat_assign(chat_id=start_chat(topic=billing).pk, agent=sender)

    handed = services.chat_hand_over(
        chat_id=chat.pk, from_agent=sender, to_agent=receiver, note="Knows invoices too."
    )

    assert handed.agent_id == receiver.pk


# --- Skills changed while the console is open ---------------------------------------------------


@db
def set_skills(agent, topics) -> None:  # type: ignore[no-untyped-def]
    from routing.models import AgentProfile

    AgentProfile.objects.get(user=agent).topics.set(topics)


async def test_a_new_skill_is_followed_at_once_with_a_fresh_snapshot(sockets, topics) -> None:
    returns, billing = topics
    waiting_billing = await db(start_chat)(topic=billing)
    agent = await db(make_agent)(topics=[returns], present=False)
    console, snapshot = await sockets.console(agent)
    assert queued_ids(snapshot) == []

    await set_skills(agent, [returns, billing])

    fresh = await receive(console)
    assert fresh["type"] == "chats" and queued_ids(fresh) == [waiting_billing.pk]
    later = await db(start_chat)(topic=billing, message="Invoice?")
    frame = await receive(console)
    assert frame["type"] == "chat" and frame["id"] == later.pk


async def test_a_removed_skill_stops_the_frames_of_that_queue(sockets, topics) -> None:
    returns, billing = topics
    agent = await db(make_agent)(topics=[returns, billing], present=False)
    console, _ = await sockets.console(agent)

    await set_skills(agent, [returns])

    fresh = await receive(console)
    assert fresh["type"] == "chats"
    await db(start_chat)(topic=billing, message="Invoice?")
    await pong_next(console)


async def test_a_console_whose_agent_leaves_the_agents_group_is_closed(sockets, topics) -> None:
    from django.contrib.auth.models import Group

    from helpdesk.roles import AGENTS_GROUP

    agent = await db(make_agent)(present=False)
    console, _ = await sockets.console(agent)

    await db(lambda: agent.groups.remove(Group.objects.get(name=AGENTS_GROUP)))()

    refused = await receive(console)
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    output = await console.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": 4003}
