"""The sockets' messages are stored in batches (chat.message_writer): what arrives while a
batch is being stored goes in the next, and each sender gets its own answer."""

import asyncio
from typing import Any

import pytest

from chat import message_writer, services
from chat.errors import BodyEmpty
from chat.services import MessagePost, Participant
from tests.chat.consumers.wsutil import db
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db(transaction=True)


async def test_messages_arriving_meanwhile_are_stored_together_and_answered_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chats = [await db(active_chat)() for _ in range(3)]
    sizes: list[int] = []
    real = services.messages_post

    def recorded(posts: list[MessagePost]) -> Any:
        sizes.append(len(posts))
        return real(posts)

    monkeypatch.setattr(services, "messages_post", recorded)
    customer = Participant.customer()
    posts = [
        MessagePost(chats[n % 3].pk, customer, "   " if n == 7 else f"m{n}", f"c-{n}")
        for n in range(30)
    ]
    outcomes = await asyncio.gather(
        *(message_writer.message_post(post) for post in posts), return_exceptions=True
    )

    assert sum(sizes) == 30 and max(sizes) > 1, sizes
    for n, (post, outcome) in enumerate(zip(posts, outcomes, strict=True)):
        if n == 7:
            assert isinstance(outcome, BodyEmpty)
        else:
            assert outcome.message.body == post.body
            assert outcome.message.chat_id == post.chat_id


async def test_an_unreachable_database_fails_every_message_of_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = await db(active_chat)()

    def down(posts: list[MessagePost]) -> Any:
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(services, "messages_post", down)
    customer = Participant.customer()
    outcomes = await asyncio.gather(
        *(
            message_writer.message_post(MessagePost(chat.pk, customer, "hi", f"c-{n}"))
            for n in range(5)
        ),
        return_exceptions=True,
    )
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
