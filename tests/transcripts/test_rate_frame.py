"""The customer socket's `rate` and `rating_status` frames over real sockets: the token's chat
only, every refusal an `error` frame on an open socket, nothing stored."""

from typing import Any

import pytest

from chat import services
from chat.models import Chat
from tests.chat.consumers.wsutil import db, receive_type, round_trip
from tests.factories import AgentFactory, ChatFactory, ClosedChatFactory
from transcripts.models import Rating

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _manual_routing(settings) -> None:  # type: ignore[no-untyped-def]
    # Committed tests run routing's drains: keep each chat where the test put it.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"


@db
def closed_chat() -> Chat:
    return ClosedChatFactory()


@db
def ratings(chat: Chat) -> list[tuple[int, str]]:
    return list(Rating.objects.filter(chat_id=chat.pk).values_list("score", "comment"))


async def test_the_customer_rates_the_closed_chat_and_changes_it(sockets) -> None:  # type: ignore[no-untyped-def]
    chat = await closed_chat()
    customer, first = await sockets.customer(chat)
    assert first["status"] == "closed"

    empty = await round_trip(customer, {"type": "rating_status"})
    assert empty == {
        "type": "rating",
        "chat": chat.pk,
        "score": None,
        "comment": None,
        "editable_until": None,
        "editable": None,
    }

    await customer.send_json_to({"type": "rate", "score": 5, "comment": "Great <b>help</b>"})
    answer = await receive_type(customer, "rating")
    assert (answer["chat"], answer["score"], answer["comment"]) == (chat.pk, 5, "Great <b>help</b>")
    assert answer["editable"] is True and answer["editable_until"]
    await customer.send_json_to({"type": "rate", "score": 4})
    # Each rating comes back twice (the answer, and the copy published to the chat's sockets),
    # in any order under load: take all four before asking for the status, so the next rating
    # frame can only be the status answer.
    seen = [answer["score"]]
    while sorted(seen) != [4, 4, 5, 5]:
        frame = await receive_type(customer, "rating")
        seen.append(frame["score"])
        assert len(seen) <= 4, seen
        if frame["score"] == 4:
            assert frame["comment"] == ""
    assert await ratings(chat) == [(4, "")]

    status = await round_trip(customer, {"type": "rating_status", "chat": chat.pk})
    assert (status["type"], status["score"]) == ("rating", 4)


async def expect_error(customer: Any, frame: dict[str, Any], code: str) -> None:
    answer = await receive_type_after(customer, frame)
    assert answer["type"] == "error" and answer["code"] == code, answer


async def receive_type_after(customer: Any, frame: dict[str, Any]) -> dict[str, Any]:
    await customer.send_json_to(frame)
    return await receive_type(customer, "error")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "rate"}, "score_invalid"),
        ({"type": "rate", "score": 0}, "score_invalid"),
        ({"type": "rate", "score": 6}, "score_invalid"),
        ({"type": "rate", "score": "5"}, "score_invalid"),
        ({"type": "rate", "score": 5.0}, "score_invalid"),
        ({"type": "rate", "score": True}, "score_invalid"),
        ({"type": "rate", "score": None}, "score_invalid"),
        ({"type": "rate", "score": 5, "comment": "x" * 1001}, "comment_too_long"),
        ({"type": "rate", "score": 5, "comment": "nul\x00"}, "comment_invalid"),
        ({"type": "rate", "score": 5, "comment": 7}, "invalid_frame"),
        ({"type": "rate", "score": 5, "comment": {"a": 1}}, "invalid_frame"),
    ],
)
async def test_hostile_frames_are_error_frames(sockets, frame, code) -> None:  # type: ignore[no-untyped-def]
    chat = await closed_chat()
    customer, _ = await sockets.customer(chat)
    await expect_error(customer, frame, code)
    # The socket stays usable.
    assert await round_trip(customer, {"type": "ping"}) == {"type": "pong"}
    assert await ratings(chat) == []


async def test_an_open_chat_cannot_be_rated(sockets) -> None:  # type: ignore[no-untyped-def]
    chat = await db(ChatFactory)()
    customer, first = await sockets.customer(chat)
    assert first["status"] == "queued"
    await expect_error(customer, {"type": "rate", "score": 5}, "not_closed")
    assert await ratings(chat) == []


async def test_another_chat_cannot_be_named(sockets) -> None:  # type: ignore[no-untyped-def]
    mine, other = await closed_chat(), await closed_chat()
    customer, _ = await sockets.customer(mine)
    # The token decides the chat; a `chat` field naming another one is refused.
    await expect_error(customer, {"type": "rate", "chat": other.pk, "score": 1}, "chat_not_found")
    assert await ratings(other) == [] and await ratings(mine) == []


async def test_locked_after_the_window(sockets, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_RATING_EDIT_SECONDS = 0
    chat = await closed_chat()
    customer, _ = await sockets.customer(chat)
    await customer.send_json_to({"type": "rate", "score": 3})
    assert (await receive_type(customer, "rating"))["editable"] in (True, False)
    await expect_error(customer, {"type": "rate", "score": 5}, "rating_locked")
    assert await ratings(chat) == [(3, "")]


async def test_an_agent_sending_rate_gets_unknown_type(sockets) -> None:  # type: ignore[no-untyped-def]
    agent = await db(AgentFactory)()
    chat = await db(ChatFactory)()
    await db(services.chat_assign)(chat_id=chat.pk, agent=agent)
    await db(services.chat_close)(chat_id=chat.pk, by=services.Participant.agent(agent))
    console, _ = await sockets.console(agent)
    for frame_type in ("rate", "rating_status"):
        await expect_error(
            console, {"type": frame_type, "chat": chat.pk, "score": 5}, "unknown_type"
        )
    assert await ratings(chat) == []
