"""The automatic greeting: when a chat is first assigned, the topic's (else the shared) /greet
response is posted as the agent, personalised; per topic it can be switched off."""

import logging
from typing import Any

import pytest
from django.test import Client

from cannedresponses import receivers, services
from cannedresponses.models import TopicGreeting
from chat import services as chat_services
from chat.models import Chat, Message
from tests.factories import AgentFactory, CannedResponseFactory, SupervisorFactory, TopicFactory
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db

GREET = "Hi {customer.first_name|there}, I'm {agent.first_name|your agent}. How can I help?"


@pytest.fixture
def topic() -> Any:
    return TopicFactory(name="Returns", slug="returns")


@pytest.fixture
def bruno() -> Any:
    return AgentFactory(first_name="Bruno")


def assign(chat: Chat, agent: Any, capture: Any) -> Chat:
    # The greeting follows the assignment's commit (chat_assigned is sent on commit).
    with capture(execute=True):
        return chat_services.chat_assign(chat_id=chat.pk, agent=agent)


def greetings(chat: Chat) -> list[Message]:
    return list(Message.objects.filter(chat=chat, origin=Message.Origin.GREETING))


def test_the_shared_greet_response_greets_the_customer_as_the_agent(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CannedResponseFactory(shortcut="greet", body=GREET)
    chat = start_chat(topic=topic, name="Ana Lima")

    assign(chat, bruno, django_capture_on_commit_callbacks)

    [greeting] = greetings(chat)
    assert greeting.body == "Hi Ana, I'm Bruno. How can I help?"
    assert greeting.kind == Message.Kind.AGENT
    assert greeting.author == bruno
    assert greeting.client_msg_id == f"greeting-{chat.pk}"
    # It comes after the "joined" system message, as the agent's first words.
    last = Message.objects.filter(chat=chat).order_by("-seq").first()
    assert last == greeting


def test_the_topic_greeting_wins_over_the_shared_one(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CannedResponseFactory(shortcut="greet", body="Shared hello {customer.first_name}.")
    CannedResponseFactory(
        shortcut="greet", scope="topic", topic=topic, body="Returns desk: hi {customer.name}!"
    )
    other = TopicFactory(slug="billing")
    CannedResponseFactory(shortcut="greet", scope="topic", topic=other, body="Billing hi.")
    chat = start_chat(topic=topic, name="Ana Lima")

    assign(chat, bruno, django_capture_on_commit_callbacks)

    assert [m.body for m in greetings(chat)] == ["Returns desk: hi Ana Lima!"]


def test_other_topics_greetings_and_personal_ones_are_not_used(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CannedResponseFactory(
        shortcut="greet", scope="topic", topic=TopicFactory(slug="billing"), body="Billing hi."
    )
    CannedResponseFactory(shortcut="greet", scope="personal", owner=bruno, body="Yo.")
    chat = start_chat(topic=topic)

    assign(chat, bruno, django_capture_on_commit_callbacks)

    assert greetings(chat) == []
    assert not Message.objects.filter(chat=chat, kind=Message.Kind.AGENT).exists()


def test_no_active_greet_response_means_no_greeting(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CannedResponseFactory(shortcut="greet", body=GREET, is_active=False)
    CannedResponseFactory(shortcut="hello", body=GREET)
    chat = start_chat(topic=topic)

    assign(chat, bruno, django_capture_on_commit_callbacks)

    assert greetings(chat) == []


def test_a_topic_can_switch_the_greeting_off(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CannedResponseFactory(shortcut="greet", body=GREET)
    TopicGreeting.objects.create(topic=topic, enabled=False)
    elsewhere = TopicFactory(slug="billing")
    TopicGreeting.objects.create(topic=elsewhere, enabled=True)
    quiet = start_chat(topic=topic, name="Ana Lima")
    greeted = start_chat(topic=elsewhere, name="Rui Costa")

    assign(quiet, bruno, django_capture_on_commit_callbacks)
    assign(greeted, AgentFactory(first_name="Carla"), django_capture_on_commit_callbacks)

    assert greetings(quiet) == []
    assert [m.body for m in greetings(greeted)] == ["Hi Rui, I'm Carla. How can I help?"]


def test_only_the_first_assignment_greets(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CannedResponseFactory(shortcut="greet", body=GREET)
    chat = start_chat(topic=topic, name="Ana Lima")
    assign(chat, bruno, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.chat_requeue(chat_id=chat.pk, reason="agent_left")

    assign(chat, AgentFactory(first_name="Carla"), django_capture_on_commit_callbacks)

    assert [m.body for m in greetings(chat)] == ["Hi Ana, I'm Bruno. How can I help?"]


def test_a_requeued_chat_is_not_greeted_by_its_next_agent_even_if_never_greeted(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The customer already met an agent: a greeting now would read as starting over.
    setting = TopicGreeting.objects.create(topic=topic, enabled=False)
    CannedResponseFactory(shortcut="greet", body=GREET)
    chat = start_chat(topic=topic)
    assign(chat, bruno, django_capture_on_commit_callbacks)
    setting.enabled = True
    setting.save()
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.chat_requeue(chat_id=chat.pk, reason="no_reply")

    assign(chat, AgentFactory(first_name="Carla"), django_capture_on_commit_callbacks)

    assert greetings(chat) == []


def test_a_chat_an_agent_already_wrote_in_is_not_greeted(topic: Any, bruno: Any) -> None:
    CannedResponseFactory(shortcut="greet", body=GREET)
    chat = start_chat(topic=topic)
    chat_services.chat_assign(chat_id=chat.pk, agent=bruno)  # on-commit callbacks never run
    chat_services.message_post(
        chat_id=chat.pk, sender=chat_services.Participant.agent(bruno), body="Hello!"
    )

    assert services.greeting_post(chat_id=chat.pk, agent_id=bruno.pk) is None
    assert greetings(chat) == []


def test_the_greeting_is_posted_once_even_if_asked_twice(topic: Any, bruno: Any) -> None:
    CannedResponseFactory(shortcut="greet", body=GREET)
    chat = start_chat(topic=topic)
    chat_services.chat_assign(chat_id=chat.pk, agent=bruno)

    first = services.greeting_post(chat_id=chat.pk, agent_id=bruno.pk)
    again = services.greeting_post(chat_id=chat.pk, agent_id=bruno.pk)

    assert first is not None
    assert again is None
    assert len(greetings(chat)) == 1


def test_a_stale_signal_for_another_agent_or_a_closed_chat_posts_nothing(
    topic: Any, bruno: Any
) -> None:
    CannedResponseFactory(shortcut="greet", body=GREET)
    chat = start_chat(topic=topic)
    chat_services.chat_assign(chat_id=chat.pk, agent=bruno)

    assert services.greeting_post(chat_id=chat.pk, agent_id=bruno.pk + 1000) is None
    chat_services.chat_close(chat_id=chat.pk, by=chat_services.Participant.agent(bruno))
    assert services.greeting_post(chat_id=chat.pk, agent_id=bruno.pk) is None
    assert services.greeting_post(chat_id=10**9, agent_id=bruno.pk) is None
    assert greetings(chat) == []


def test_a_greeting_that_asks_for_values_is_skipped(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CannedResponseFactory(shortcut="greet", body="Hi! Your order {ask:Order number}?")
    chat = start_chat(topic=topic)

    assign(chat, bruno, django_capture_on_commit_callbacks)

    assert greetings(chat) == []
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.ACTIVE


def test_the_greeting_does_not_count_a_use(
    topic: Any, bruno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    greet = CannedResponseFactory(shortcut="greet", body=GREET)
    chat = start_chat(topic=topic)

    assign(chat, bruno, django_capture_on_commit_callbacks)

    assert len(greetings(chat)) == 1
    assert not greet.uses.exists()


def test_a_failing_greeting_is_logged_and_never_breaks_the_assignment(
    topic: Any,
    bruno: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(receivers.services, "greeting_post", broken)
    chat = start_chat(topic=topic)

    with caplog.at_level(logging.ERROR, logger="cannedresponses.receivers"):
        assigned = assign(chat, bruno, django_capture_on_commit_callbacks)

    assert assigned.status == Chat.Status.ACTIVE
    assert Chat.objects.get(pk=chat.pk).agent == bruno
    assert f"could not post the greeting of chat {chat.pk}" in caplog.text


def test_supervisors_switch_greetings_per_topic_in_the_admin(client: Client, topic: Any) -> None:
    client.force_login(SupervisorFactory())
    TopicGreeting.objects.create(topic=topic, enabled=True)

    listing = client.get("/admin/cannedresponses/topicgreeting/")
    assert listing.status_code == 200
    assert "Returns" in listing.content.decode()

    added = client.post(
        "/admin/cannedresponses/topicgreeting/add/",
        {"topic": TopicFactory(name="Billing", slug="billing").pk, "enabled": ""},
    )
    assert added.status_code == 302
    assert TopicGreeting.objects.get(topic__slug="billing").enabled is False
