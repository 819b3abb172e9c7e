"""The bot steps aside: the moment an agent takes the chat (even while the bot is matching), or
the customer asks for a person; for good, and without costing the customer their place. And
it never delays an assignment: routing assigns before the bot looks, and a failing bot changes
nothing for the chat."""

from collections.abc import Callable
from typing import Any

import pytest

from cannedresponses import answerbot
from cannedresponses.models import BotChat
from chat import services as chat_services
from chat.models import Chat, Message
from helpdesk.models import Article, Topic
from routing.selectors import queue_frame_for_chat
from tests.factories import AgentFactory
from tests.routing.conftest import make_agent

from .support import bot_messages

pytestmark = pytest.mark.django_db


def test_once_an_agent_takes_the_chat_the_bot_never_answers_again(
    kb: dict[str, Article], start: Callable[..., Chat], ask: Callable, committed: Callable
) -> None:
    chat = start("How do I return my parcel?")
    assert len(bot_messages(chat)) == 1
    agent = AgentFactory()
    with committed():
        chat_services.chat_assign(chat_id=chat.pk, agent=agent)
    ask(chat, "When do I get my refund?")
    assert len(bot_messages(chat)) == 1
    # Not even after the agent leaves and the chat waits again.
    with committed():
        chat_services.chat_requeue(chat_id=chat.pk, reason="away")
    ask(chat, "When do I get my refund?")
    assert len(bot_messages(chat)) == 1
    assert answerbot.bot_frame(chat_id=chat.pk)["active"] is False


def test_an_agent_taking_the_chat_while_the_bot_matches_wins(
    kb: dict[str, Article], start: Callable[..., Chat], monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = start("Hello")  # no keyword: no answer yet
    question = chat_services.message_post(
        chat_id=chat.pk, sender=chat_services.Participant.customer(), body="refund"
    ).message
    real_match = answerbot.match_articles

    def match_then_assign(**kwargs: Any) -> Any:
        found = real_match(**kwargs)
        # The agent takes the chat between the bot's matching and its answer.
        chat_services.chat_assign(chat_id=chat.pk, agent=AgentFactory())
        return found

    monkeypatch.setattr(answerbot, "match_articles", match_then_assign)
    assert answerbot.bot_answer_question(message_id=question.pk) is None
    assert bot_messages(chat) == []


def test_asking_for_a_person_stops_the_bot_and_keeps_the_place(
    kb: dict[str, Article], topic: Topic, start: Callable[..., Chat], ask: Callable
) -> None:
    first = start("How do I return my parcel?")
    second = start("Where is my refund?")
    before = Chat.objects.get(pk=second.pk)
    place = queue_frame_for_chat(chat_id=second.pk)["position"]

    frame = answerbot.bot_human_request(chat_id=second.pk)

    assert (frame["active"], frame["human_requested"]) == (False, True)
    ask(second, "When do I get my refund?")
    ask(second, "How do I return my parcel?")
    assert len(bot_messages(second)) == 1  # the answer before the ask, no other
    after = Chat.objects.get(pk=second.pk)
    assert after.status == Chat.Status.QUEUED
    assert (after.queued_at, after.queue_priority) == (before.queued_at, before.queue_priority)
    assert queue_frame_for_chat(chat_id=second.pk)["position"] == place == 2
    # The other chat's bot goes on.
    ask(first, "When do I get my refund?")
    assert len(bot_messages(first)) == 2


def test_asking_twice_or_after_an_agent_joined_changes_nothing(
    kb: dict[str, Article], start: Callable[..., Chat], committed: Callable
) -> None:
    chat = start()
    answerbot.bot_human_request(chat_id=chat.pk)
    asked_at = BotChat.objects.get(chat=chat).human_requested_at
    answerbot.bot_human_request(chat_id=chat.pk)
    assert BotChat.objects.get(chat=chat).human_requested_at == asked_at

    other = start()
    with committed():
        chat_services.chat_assign(chat_id=other.pk, agent=AgentFactory())
    frame = answerbot.bot_human_request(chat_id=other.pk)
    assert (frame["active"], frame["human_requested"]) == (False, False)
    assert not BotChat.objects.filter(chat=other).exists()


def test_routing_assigns_before_the_bot_looks(
    kb: dict[str, Article], topic: Topic, start: Callable[..., Chat]
) -> None:
    agent = make_agent(topics=[topic])
    chat = start("How do I return my parcel?")
    chat.refresh_from_db()
    # Routed at once: the question is the agent's, the bot stays quiet.
    assert (chat.status, chat.agent_id) == (Chat.Status.ACTIVE, agent.pk)
    assert bot_messages(chat) == []


def test_a_failing_bot_changes_nothing_for_the_chat(
    kb: dict[str, Article],
    start: Callable[..., Chat],
    ask: Callable,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("search is down")

    monkeypatch.setattr(answerbot, "match_articles", broken)
    chat = start("How do I return my parcel?")
    message = ask(chat, "Hello?")
    assert message.pk is not None
    assert Message.objects.filter(chat=chat, kind=Message.Kind.CUSTOMER).count() == 2
    assert bot_messages(chat) == []
    assert "the answer bot could not answer message" in caplog.text


def test_the_bot_is_no_assignment_guard(
    kb: dict[str, Article], start: Callable[..., Chat], committed: Callable
) -> None:
    """An agent takes a chat the bot is busy with like any other: the bot holds no lock, no
    state and no check on the assignment path."""
    from chat.services import _assignment_guards

    assert all("cannedresponses" not in guard.__module__ for guard in _assignment_guards)
    chat = start()
    with committed():
        taken = chat_services.chat_assign(chat_id=chat.pk, agent=AgentFactory())
    assert taken.status == Chat.Status.ACTIVE
