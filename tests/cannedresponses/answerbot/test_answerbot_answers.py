"""The bot answers a queued customer's question: a `bot` message offering the best one or two
articles, published like any message, once per question; nothing when the topic's bot is off,
nothing matches, or the chat had its share of answers."""

from collections.abc import Callable
from typing import Any

import pytest

from cannedresponses import answerbot, tasks
from cannedresponses.models import BotAnswer, BotAnswerArticle, TopicBot
from chat import events
from chat.models import Chat, Message
from helpdesk.models import Article, Topic
from tests.factories import ArticleFactory, TopicFactory

from .support import bot_messages, offered_titles

pytestmark = pytest.mark.django_db


def test_the_first_question_gets_an_automated_answer(
    kb: dict[str, Article], start: Callable[..., Chat], published: Any
) -> None:
    chat = start("How do I return my parcel?")

    [answer] = bot_messages(chat)
    assert offered_titles(answer) == ["How to return an item"]
    item = answer.data["articles"][0]
    assert item == {
        "id": kb["returns"].pk,
        "title": "How to return an item",
        "url": "https://help.example.com/help/return-an-item/",
        "excerpt": item["excerpt"],
    }
    assert item["excerpt"].startswith("Print the return label")
    assert answer.data["question"] == "How do I return my parcel?"
    assert answer.author_id is None
    # Plain text that reads on its own (transcripts, webhooks, older clients).
    assert "How to return an item: https://help.example.com/help/return-an-item/" in answer.body
    assert "Did this answer your question?" in answer.body
    # Published to the customer and to the consoles following the queue, as kind "bot".
    frames = [f for f in published.frames("message") if f["kind"] == "bot"]
    assert len(frames) == 1
    assert frames[0]["bot"] == answer.data
    groups = published.groups_of("message")[-1]
    assert events.customer_group(chat.pk) in groups
    assert events.queue_group(chat.topic_id) in groups
    # The answer is on record for feedback and metrics.
    record = BotAnswer.objects.get()
    assert (record.message_id, record.question_seq) == (answer.pk, answer.seq - 1)
    assert list(BotAnswerArticle.objects.values_list("title", "position")) == [
        ("How to return an item", 1)
    ]


def test_two_articles_at_most_best_first(kb: dict[str, Article], start: Callable) -> None:
    ArticleFactory(title="Refund to a gift card", body="A refund to a gift card.")
    ArticleFactory(title="Refund by bank transfer", body="A refund by transfer.")
    chat = start("refund")
    [answer] = bot_messages(chat)
    assert len(answer.data["articles"]) == 2
    TopicBot.objects.filter(topic=chat.topic).update(max_articles=1)
    other = start("refund please")
    assert len(bot_messages(other)[0].data["articles"]) == 1


def test_the_customers_wait_for_a_person_is_untouched(
    kb: dict[str, Article], start: Callable[..., Chat]
) -> None:
    chat = start()
    chat.refresh_from_db()
    assert bot_messages(chat)
    # Still waiting for an answer from a person, since they started.
    assert chat.awaiting_reply_since is not None
    assert chat.first_agent_response_at is None
    assert chat.status == Chat.Status.QUEUED


def test_no_answer_when_nothing_matches_well_enough(
    kb: dict[str, Article], start: Callable[..., Chat], published: Any
) -> None:
    chat = start("Can I pay with cryptocurrency on your marketplace?")
    assert bot_messages(chat) == []
    assert BotAnswer.objects.count() == 0
    assert [f for f in published.frames("message") if f["kind"] == "bot"] == []


def test_no_answer_on_a_topic_without_the_bot(
    kb: dict[str, Article], start: Callable[..., Chat]
) -> None:
    plain = TopicFactory(name="Billing", slug="billing")
    assert bot_messages(start("refund", on=plain)) == []
    off = TopicFactory(name="Shop", slug="shop")
    TopicBot.objects.create(topic=off, is_enabled=False)
    assert bot_messages(start("refund", on=off)) == []


def test_later_questions_while_queued_are_answered_with_new_articles(
    kb: dict[str, Article], start: Callable[..., Chat], ask: Callable
) -> None:
    chat = start("How do I return my parcel?")
    ask(chat, "And when do I get my refund?")
    ask(chat, "Where is my parcel? I want to return it")  # only the returns article matches
    answers = bot_messages(chat)
    assert [offered_titles(m) for m in answers] == [
        ["How to return an item"],
        ["When will I get my refund?"],
    ]


def test_at_most_five_answers_per_chat(topic: Topic, start: Callable, ask: Callable) -> None:
    for n in range(8):
        ArticleFactory(title=f"Topic{n} guide", slug=f"topic{n}", body=f"About topic{n}.")
    chat = start("topic0")
    for n in range(1, 8):
        ask(chat, f"topic{n}")
    assert len(bot_messages(chat)) == answerbot.MAX_ANSWERS_PER_CHAT


def test_only_customer_messages_are_questions(
    kb: dict[str, Article], start: Callable[..., Chat]
) -> None:
    chat = start("Hello")  # no keyword: no answer
    system = Message.objects.filter(chat=chat, kind=Message.Kind.SYSTEM).first()
    assert answerbot.bot_answer_question(message_id=system.pk) is None
    assert answerbot.bot_answer_question(message_id=10**9) is None


def test_the_task_running_twice_answers_once(
    kb: dict[str, Article], start: Callable[..., Chat]
) -> None:
    chat = start("How do I return my parcel?")
    question = Message.objects.get(chat=chat, kind=Message.Kind.CUSTOMER)
    assert tasks.bot_answer(message_id=question.pk) is None
    assert len(bot_messages(chat)) == 1


def test_no_task_is_queued_for_messages_the_bot_ignores(
    kb: dict[str, Article],
    start: Callable[..., Chat],
    monkeypatch: pytest.MonkeyPatch,
    django_assert_num_queries: Any,
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(tasks.bot_answer, "delay", lambda **kw: queued.append(kw["message_id"]))
    chat = start("Hello there")
    greeting = Message.objects.filter(chat=chat, kind=Message.Kind.SYSTEM).first()
    customer = Message.objects.filter(chat=chat, kind=Message.Kind.CUSTOMER).first()
    assert queued == [customer.pk]
    # One query decides, on the path of every message.
    with django_assert_num_queries(1):
        answerbot.bot_answer_later(message_id=greeting.pk)
    assert queued == [customer.pk]


def test_bot_messages_frame_carries_the_articles_and_others_do_not(
    kb: dict[str, Article], start: Callable[..., Chat]
) -> None:
    from chat import protocol

    chat = start()
    frames = {
        m.kind: protocol.message_frame(m, customer_name="Ana")
        for m in Message.objects.filter(chat=chat)
    }
    assert frames["bot"]["kind"] == "bot"
    assert frames["bot"]["author"] is None
    assert frames["bot"]["bot"]["articles"][0]["title"] == "How to return an item"
    # Every other frame is exactly as before.
    assert "bot" not in frames["customer"]
    assert "bot" not in frames["system"]
