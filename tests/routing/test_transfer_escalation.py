"""Escalating a chat asks a senior: the online, present senior (not the sender) who handles the
chat's topic and has room, with the fewest open chats. None: `no_senior_available`, nothing
changes. Accepted, it is handed over like any transfer, recorded as an escalation."""

import pytest
from django.utils import timezone

from chat.models import ChatEvent
from routing import transfers
from routing.errors import NoSeniorAvailable
from routing.models import AgentProfile, Transfer
from tests.factories import TopicFactory
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat, reload, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():  # type: ignore[no-untyped-def]
    return TopicFactory(name="Returns", slug="returns")


def senior(**kwargs):  # type: ignore[no-untyped-def]
    agent = make_agent(**kwargs)
    AgentProfile.objects.filter(user=agent).update(seniority=AgentProfile.Seniority.SENIOR)
    return agent


def escalate(chat, sender) -> Transfer:  # type: ignore[no-untyped-def]
    return transfers.transfer_escalate(chat_id=chat.pk, sender=sender, note=NOTE)


def test_the_least_busy_senior_who_handles_the_topic_is_asked(topic, published, committed) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[topic], first_name="Alice")
    chat = held_chat(alice, topic=topic)
    busy = senior(topics=[topic], first_name="Busy")
    held_chat(busy, topic=topic)
    free = senior(first_name="Sara")  # a generalist: every topic
    senior(topics=[TopicFactory()], first_name="Other")  # not Returns
    senior(topics=[topic], first_name="Away", status="away")
    senior(topics=[topic], first_name="Gone", present=False)
    full = senior(topics=[topic], first_name="Full", max_chats=1)
    held_chat(full, topic=topic)
    make_agent(topics=[topic], first_name="Junior")  # not a senior, and free

    with committed():
        transfer = escalate(chat, alice)

    assert (transfer.kind, transfer.status, transfer.to_agent) == ("senior", "pending", free)
    (request,) = published.frames("transfer_request")
    assert published.groups_of("transfer_request") == [[f"agent.{free.pk}"]]
    assert (request["kind"], request["note"], request["from"]["id"]) == ("senior", NOTE, alice.pk)
    assert reload(chat).agent == alice


def test_an_accepted_escalation_is_recorded_as_one(topic) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[topic])
    chat = held_chat(alice, topic=topic)
    sara = senior(topics=[topic])
    transfer = escalate(chat, alice)

    transfers.transfer_reply(transfer_id=transfer.pk, agent=sara, accept=True)

    moved = reload(chat)
    assert (moved.agent, moved.transfer_count, moved.transfer_note) == (sara, 1, NOTE)
    event = ChatEvent.objects.get(chat=chat, kind=ChatEvent.Kind.TRANSFERRED)
    assert event.data == {
        "kind": "senior",
        "previous_agent": alice.pk,
        "agent": sara.pk,
        "note": NOTE,
    }


def test_a_senior_escalating_asks_another_senior(topic) -> None:  # type: ignore[no-untyped-def]
    first = senior(topics=[topic])
    chat = held_chat(first, topic=topic)
    second = senior(topics=[topic])
    assert escalate(chat, first).to_agent == second


def test_ties_go_to_the_senior_idle_longest(topic) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[topic])
    chat = held_chat(alice, topic=topic)
    senior(topics=[topic], last_assigned_at=timezone.now())
    never = senior(topics=[topic])
    assert escalate(chat, alice).to_agent == never


@pytest.mark.parametrize(
    "seniors",
    [
        [],
        [{"status": "away"}],
        [{"present": False}],
        [{"topics": "other"}],
        [{"max_chats": 1, "holds": 1}],
    ],
    ids=["none", "away", "no-console", "other-topic", "full"],
)
def test_without_a_senior_available_nothing_changes(topic, published, committed, seniors) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[topic])
    chat = held_chat(alice, topic=topic)
    for spec in seniors:
        spec = dict(spec)
        holds = spec.pop("holds", 0)
        if spec.get("topics") == "other":
            spec["topics"] = [TopicFactory()]
        else:
            spec.setdefault("topics", [topic])
        someone = senior(**spec)
        for _ in range(holds):
            held_chat(someone, topic=topic)
    before = state()

    with committed(), pytest.raises(NoSeniorAvailable) as refused:
        escalate(chat, alice)

    assert refused.value.code == "no_senior_available"
    assert state() == before
    assert published.calls == []
