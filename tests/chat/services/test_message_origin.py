"""How an agent's message was written (typed, canned, hold, greeting) and the tone-guard
phrases they sent anyway are stored for metrics; a hold reply puts the chat on hold until the
agent's next message. None of it reaches the customer."""

import pytest

from chat import services
from chat.models import Message
from chat.services import Participant
from tests.factories import AgentFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db


def post(chat, agent, body, **extra):  # type: ignore[no-untyped-def]
    return services.message_post(
        chat_id=chat.pk, sender=Participant.agent(agent), body=body, **extra
    ).message


def test_origin_and_tone_overrides_are_stored_with_the_message() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)

    message = post(chat, agent, "lol, on it", origin="canned", tone_overrides=["lol"])

    stored = Message.objects.get(pk=message.pk)
    assert (stored.origin, stored.tone_overrides) == ("canned", ["lol"])


def test_a_customer_message_never_carries_an_origin() -> None:
    chat = active_chat()
    message = services.message_post(
        chat_id=chat.pk, sender=Participant.customer(), body="Hi", origin="canned"
    ).message
    assert (message.origin, message.tone_overrides) == ("", [])


def test_an_unknown_origin_is_a_programming_error() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    with pytest.raises(ValueError):
        post(chat, agent, "Hi", origin="robot")


def test_a_hold_reply_puts_the_chat_on_hold_until_the_next_answer(published, committed) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)

    with committed():
        post(chat, agent, "Let me check, back in a moment.", origin="hold")
    chat.refresh_from_db()
    assert chat.on_hold_since is not None
    staff = published.frames("chat", group=f"agent.{agent.pk}")
    assert [f["on_hold_since"] for f in staff] == [chat.on_hold_since.isoformat()]
    assert published.frames("chat", group=f"chat.{chat.pk}") == []  # staff only

    published.calls.clear()
    with committed():
        post(chat, agent, "Found it: it ships today.")
    chat.refresh_from_db()
    assert chat.on_hold_since is None
    assert [f["on_hold_since"] for f in published.frames("chat")] == [None]


def test_an_ordinary_answer_publishes_no_chat_frame(published, committed) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    with committed():
        post(chat, agent, "Hello")
    assert published.frames("chat") == []


def test_what_the_customer_receives_says_nothing_of_how_it_was_written(
    published, committed
) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    with committed():
        post(chat, agent, "lol", origin="canned", tone_overrides=["lol"])
    (frame,) = published.frames("message", group=f"chat.{chat.pk}")
    assert "origin" not in frame and "tone_overrides" not in frame


def test_the_automatic_greeting_is_not_an_answer(published, committed) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    waiting_since = chat.awaiting_reply_since

    with committed():
        post(chat, agent, "Hi Ana, I'm Bruno.", origin="greeting")

    chat.refresh_from_db()
    assert chat.first_agent_response_at is None
    assert chat.awaiting_reply_since == waiting_since
    # Consoles hear the message, then the chat still waiting (their timer keeps running).
    assert [f["type"] for _g, f in published.calls] == ["message", "chat"]
    assert published.calls[-1][1]["awaiting_reply_since"] == waiting_since.isoformat()

    post(chat, agent, "How can I help?")
    chat.refresh_from_db()
    assert chat.first_agent_response_at is not None and chat.awaiting_reply_since is None
