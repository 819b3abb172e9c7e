"""A transfer to a topic's queue is done at once: the chat goes to the front of that topic's
queue with the note, the customer is told, the count grows, a completed Transfer records it,
and the drain gives it to an agent of the topic (its previous agent only as a last resort)."""

import pytest

from chat.models import ChatEvent, Message
from routing import selectors, transfers
from routing.errors import NoAgentsForTopic, TopicNotFound
from routing.models import Transfer
from tests.factories import AgentFactory, TopicFactory
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat, reload, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def returns():  # type: ignore[no-untyped-def]
    return TopicFactory(name="Returns", slug="returns")


@pytest.fixture
def billing():  # type: ignore[no-untyped-def]
    return TopicFactory(name="Billing", slug="billing")


def to_topic(chat, sender, slug: str) -> Transfer:  # type: ignore[no-untyped-def]
    return transfers.transfer_to_topic(chat_id=chat.pk, sender=sender, topic_slug=slug, note=NOTE)


def test_the_chat_goes_to_the_front_of_the_topics_queue_with_the_note(
    returns, billing, published, committed
) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[returns], first_name="Alice")
    chat = held_chat(alice, topic=returns)
    # Billing has an agent, but not online: the chat waits for them.
    make_agent(topics=[billing], status="away", present=False)

    with committed():
        transfer = to_topic(chat, alice, "billing")

    transfer.refresh_from_db()
    assert (transfer.kind, transfer.status, transfer.to_topic) == ("topic", "completed", billing)
    assert (transfer.to_agent, transfer.from_agent, transfer.expires_at) == (None, alice, None)
    assert transfer.decided_at is not None
    moved = reload(chat)
    assert (moved.status, moved.agent, moved.topic, moved.queue_priority) == (
        "queued",
        None,
        billing,
        1,
    )
    assert (moved.transfer_count, moved.transfer_note, moved.transferred_by) == (1, NOTE, alice)
    told = Message.objects.filter(chat=chat, kind="system").order_by("-seq").first()
    assert "passing you to our Billing team" in told.body
    event = ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.TRANSFERRED).get()
    assert event.data["kind"] == "topic" and event.data["topic"] == "billing"

    (sent,) = published.frames("transfer", group=f"agent.{alice.pk}")
    assert (sent["id"], sent["status"], sent["kind"]) == (transfer.pk, "completed", "topic")
    assert sent["to_topic"] == {"slug": "billing", "name": "Billing"}
    # Whoever picks it from the queue reads the note first.
    queued = [f for f in published.frames("chat") if f["id"] == chat.pk][-1]
    assert queued["status"] == "queued" and queued["transfer"]["note"] == NOTE
    assert NOTE not in str(published.frames(group=f"chat.{chat.pk}"))


def test_the_drain_gives_it_to_an_agent_of_the_topic(returns, billing, committed) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[returns])
    chat = held_chat(alice, topic=returns)
    bruno = make_agent(topics=[billing])

    with committed():
        to_topic(chat, alice, "billing")

    moved = reload(chat)
    assert (moved.status, moved.agent) == ("active", bruno)
    assert moved.transfer_note == NOTE


def test_the_same_topic_is_allowed_and_a_colleague_gets_it_before_the_sender(
    returns, committed
) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[returns])
    chat = held_chat(alice, topic=returns)
    carla = make_agent(topics=[returns])

    with committed():
        to_topic(chat, alice, "returns")

    assert reload(chat).agent == carla


def test_the_sender_gets_it_back_only_when_nobody_else_can_take_it(returns, committed) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[returns])
    chat = held_chat(alice, topic=returns)
    # The only other agent of the topic is away: the chat comes back rather than wait.
    make_agent(topics=[returns], status="away")

    with committed():
        to_topic(chat, alice, "returns")

    assert reload(chat).agent == alice


def test_the_drain_knows_who_passed_the_chat_on(returns, committed, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"
    alice = make_agent(topics=[returns])
    chat = held_chat(alice, topic=returns)
    make_agent(topics=[returns])

    with committed():
        to_topic(chat, alice, "returns")

    queued = reload(chat)
    assert queued.status == "queued"
    assert selectors.timed_out_agent_id(chat_id=chat.pk, queued_at=queued.queued_at) == alice.pk


@pytest.mark.parametrize("slug", ["nope", "billing-old", "RETURNS"])
def test_an_unknown_or_inactive_topic_changes_nothing(returns, slug, published) -> None:  # type: ignore[no-untyped-def]
    TopicFactory(name="Old billing", slug="billing-old", is_active=False)
    alice = make_agent(topics=[returns])
    chat = held_chat(alice, topic=returns)
    make_agent()  # a generalist would handle any topic
    before = state()

    with pytest.raises(TopicNotFound) as refused:
        to_topic(chat, alice, slug)

    assert refused.value.code == "topic_not_found"
    assert state() == before
    assert published.calls == []


def test_a_topic_nobody_else_handles_changes_nothing(returns, billing, published) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent()  # a generalist: handles Billing, but is the one passing it on
    chat = held_chat(alice, topic=returns)
    make_agent(topics=[returns])  # handles Returns only
    inactive = make_agent(topics=[billing])
    inactive.is_active = False
    inactive.save()
    before = state()

    with pytest.raises(NoAgentsForTopic) as refused:
        to_topic(chat, alice, "billing")

    assert refused.value.code == "no_agents_for_topic"
    assert state() == before
    assert published.calls == []


def test_an_agent_who_never_opened_the_console_counts_as_a_generalist(returns, billing) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[returns])
    chat = held_chat(alice, topic=returns)
    AgentFactory()  # no AgentProfile yet: no skills, every topic

    assert to_topic(chat, alice, "billing").status == "completed"
