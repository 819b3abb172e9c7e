"""/api/v1/chats/<id>/messages/ lists the answer bot's automated answers like any message: kind
`bot`, author null (as the serializer's help text says), the plain-text body, and the same keys as
every other message (the structured articles stay on the websocket)."""

from collections.abc import Iterator
from typing import Any

import pytest

from chat import services
from tests.api_support import client_for, fresh_cache
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


@pytest.fixture(autouse=True)
def _manual_routing(settings: Any) -> None:
    # The chat stays queued, where the bot speaks.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"


def test_a_bot_message_has_no_author() -> None:
    chat = start_chat(name="Ana Lima")
    data = {"question": "Where is my parcel?", "articles": [{"id": 1, "title": "Tracking"}]}
    body = "While you wait, this article may answer your question: Tracking"
    services.bot_message_post(chat_id=chat.pk, body=body, data=data)

    results = client_for().get(f"/api/v1/chats/{chat.pk}/messages/").json()["results"]
    system, question, bot = results
    assert (question["kind"], question["author"]) == ("customer", {"id": None, "name": "Ana Lima"})
    assert bot == {
        "seq": 3,
        "kind": "bot",
        "body": body,
        "author": None,
        "created_at": bot["created_at"],
        "client_msg_id": None,
    }
    assert system["author"] is None and bot.keys() == question.keys()
