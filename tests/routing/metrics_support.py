"""Factory data with known timestamps for the metrics tests (hand-computed expectations)."""

import datetime
from dataclasses import dataclass
from typing import Any

from chat import message_store
from chat.models import Chat, Message
from chat.tallies import reply_tallies
from helpdesk.models import Topic
from tests.factories import AgentFactory, ChatFactory, MessageFactory, TopicFactory
from transcripts.models import Rating

UTC = datetime.UTC
DAY = datetime.date(2024, 3, 4)


def at(
    hour: int, minute: int = 0, second: int = 0, *, day: datetime.date = DAY
) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute, second), tzinfo=UTC)


def chat_at(*, created_at: datetime.datetime, **fields: Any) -> Chat:
    """A chat with the given timestamps (created_at is auto_now_add, so it is set by update)."""
    chat = ChatFactory(**fields)
    Chat.objects.filter(pk=chat.pk).update(created_at=created_at)
    chat.refresh_from_db()
    return chat


def agent_says(
    chat: Chat, *, author: Any, origin: str = "", tone: list[str] | None = None
) -> Message:
    """An agent's reply stored as message_post stores it: the message and its tally (the
    chat's timestamps here are set by hand, which message_post would refuse)."""
    message = MessageFactory(
        chat=chat, kind=Message.Kind.AGENT, author=author, origin=origin, tone_overrides=tone or []
    )
    message_store.tallies_count(reply_tallies([message]))
    return message


@dataclass
class Scene:
    alice: Any
    bob: Any
    billing: Topic
    shipping: Topic
    a: Chat
    b: Chat
    c: Chat


def three_chats() -> Scene:
    """A (Alice, billing): wait 30 s, FRT 60 s, AHT 630 s, 1 transfer, rated 5;
    4 agent messages: greeting, canned, one typed with a tone warning, one typed.
    B (Bob, billing): wait 90 s, FRT 180 s, AHT 1200 s, rated 3; hold + 3 typed.
    C (shipping): abandoned in the queue after 5 minutes, never assigned.
    D: the day before, outside every range the tests ask for."""
    alice = AgentFactory(first_name="Alice", last_name="Ames")
    bob = AgentFactory(first_name="Bob", last_name="Berg")
    billing = TopicFactory(name="Billing", slug="billing")
    shipping = TopicFactory(name="Shipping", slug="shipping")
    closed = Chat.Status.CLOSED
    a = chat_at(
        topic=billing,
        agent=alice,
        status=closed,
        created_at=at(10),
        assigned_at=at(10, 0, 30),
        first_agent_response_at=at(10, 1),
        closed_at=at(10, 11),
        transfer_count=1,
    )
    agent_says(a, author=alice, origin=Message.Origin.GREETING)
    agent_says(a, author=alice, origin=Message.Origin.CANNED)
    agent_says(a, author=alice, tone=["calm down"])
    agent_says(a, author=alice)
    MessageFactory(chat=a)  # the customer's: never counted
    Rating.objects.create(chat=a, score=5)
    b = chat_at(
        topic=billing,
        agent=bob,
        status=closed,
        created_at=at(11),
        assigned_at=at(11, 1, 30),
        first_agent_response_at=at(11, 3),
        closed_at=at(11, 21, 30),
    )
    agent_says(b, author=bob, origin=Message.Origin.HOLD)
    for _ in range(3):
        agent_says(b, author=bob)
    Rating.objects.create(chat=b, score=3)
    c = chat_at(
        topic=shipping,
        status=closed,
        created_at=at(12),
        closed_at=at(12, 5),
        close_reason=Chat.CloseReason.ABANDONED,
        closed_by=Chat.ClosedBy.CUSTOMER,
    )
    d = chat_at(
        topic=billing,
        agent=alice,
        status=closed,
        created_at=at(23, day=DAY - datetime.timedelta(days=1)),
        assigned_at=at(23, 1, day=DAY - datetime.timedelta(days=1)),
        closed_at=at(23, 30, day=DAY - datetime.timedelta(days=1)),
    )
    agent_says(d, author=alice, origin=Message.Origin.CANNED)
    return Scene(alice, bob, billing, shipping, a, b, c)
