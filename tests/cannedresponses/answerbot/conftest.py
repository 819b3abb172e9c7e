"""Fixtures of the answer bot's tests: a topic with the bot on, a small knowledge base, and
customers asking questions through the real services with the after-commit work run."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from chat import services as chat_services
from chat.models import Chat, Message
from helpdesk.models import Article, Topic
from tests.factories import ArticleFactory, TopicBotFactory, TopicFactory


@pytest.fixture(autouse=True)
def _eager_tasks(settings: Any) -> None:
    """The bot's task runs inline (as on the embedded defaults), whatever the environment."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.HELPDESK_PUBLIC_URL = "https://help.example.com/"
    # No agent is routed a chat unless a test puts one online.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.AutomaticPolicy"


@pytest.fixture
def topic(db: None) -> Topic:
    topic = TopicFactory(name="Returns", slug="returns")
    TopicBotFactory(topic=topic)
    return topic


@pytest.fixture
def kb(db: None, topic: Topic) -> dict[str, Article]:
    """Three published articles and a draft, by a short name."""
    return {
        "returns": ArticleFactory(
            title="How to return an item",
            slug="return-an-item",
            tags="returns, parcel",
            body="Print the return label, pack the item and drop the parcel at a post office. "
            "Refunds arrive within five days.",
            topic=topic,
        ),
        "refunds": ArticleFactory(
            title="When will I get my refund?",
            slug="refund-times",
            tags="refund, money",
            body="Refunds go back to your card within five working days.",
        ),
        "shipping": ArticleFactory(
            title="Delivery times",
            slug="delivery-times",
            tags="shipping",
            body="Standard delivery takes two to four days; express arrives the next day.",
        ),
        "draft": ArticleFactory(
            title="Secret refund voucher policy",
            slug="voucher-draft",
            tags="refund, voucher",
            body="Not ready: vouchers for refunds.",
            is_published=False,
        ),
    }


Capture = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Capture) -> Callable[[], Any]:
    """`with committed(): service(...)`: the on-commit work (signals, the bot's task) runs."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def start(committed: Callable[[], Any], topic: Topic) -> Callable[..., Chat]:
    """A customer starts a chat on the bot's topic, with the after-commit work run."""

    def start_chat(message: str = "How do I return my parcel?", **kwargs: Any) -> Chat:
        with committed():
            chat = chat_services.chat_start(
                topic=kwargs.pop("on", topic),
                name="Ana Lima",
                email="ana@example.com",
                first_message=message,
                **kwargs,
            )
        return chat

    return start_chat


@pytest.fixture
def ask(committed: Callable[[], Any]) -> Callable[[Chat, str], Message]:
    """The customer writes in their chat, with the after-commit work run."""

    def ask_question(chat: Chat, body: str) -> Message:
        with committed():
            result = chat_services.message_post(
                chat_id=chat.pk, sender=chat_services.Participant.customer(), body=body
            )
        return result.message

    return ask_question
