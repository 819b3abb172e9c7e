"""The console's `block` frame over real sockets: the agent ends an abusive customer's chat and
blocks them in one step; the customer sees an ordinary end of chat and nothing of the block.
Every refusal is an `error` frame (the socket stays open) and changes nothing."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chat import blocking, services
from chat.models import Chat, ChatEvent
from helpdesk.addresses import address_hash
from helpdesk.errors import CustomerBlocked
from helpdesk.models import CustomerBlock
from tests.chat.consumers.wsutil import db, frames_until, receive_type, round_trip
from tests.factories import AgentFactory, ConsoleSupervisorFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
IP = "203.0.113.7"
REASON = "Insults after two warnings."


@pytest.fixture(autouse=True)
def _manual_routing(settings) -> None:  # type: ignore[no-untyped-def]
    # Committed tests run routing's drains: keep each chat where the test put it.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"


@db
def scene(
    *, email: str = "troll@example.com", browser_key: str = KEY, assign: bool = True
) -> tuple[Any, Chat]:
    """Bruno holds a chat started through the public API's service (browser and address)."""
    bruno = AgentFactory(first_name="Bruno")
    chat = blocking.chat_start_for_visitor(
        topic=TopicFactory(),
        name="Tom Troll",
        email=email,
        first_message="You are all useless.",
        browser_key=browser_key,
        ip=IP if browser_key or email else "",
    )
    if assign:
        chat = services.chat_assign(chat_id=chat.pk, agent=bruno)
    return bruno, chat


@db
def state(chat: Chat) -> tuple[str, str, int]:
    fresh = Chat.objects.get(pk=chat.pk)
    return fresh.status, fresh.close_reason, CustomerBlock.objects.count()


async def assert_unchanged(chat: Chat, status: str = "active") -> None:
    assert await state(chat) == (status, "", 0)


def is_closed_chat(chat: Chat):  # type: ignore[no-untyped-def]
    return lambda f: f["type"] == "chat" and f["id"] == chat.pk and f["status"] == "closed"


async def frames_until_pong(comm: Any) -> list[dict[str, Any]]:
    """Everything the socket was sent so far (a ping is answered after it)."""
    await comm.send_json_to({"type": "ping"})
    return await frames_until(comm, lambda f: f["type"] == "pong")


# --- The happy path ------------------------------------------------------------------------------


async def test_the_agent_ends_the_chat_and_blocks_the_customer(sockets) -> None:  # type: ignore[no-untyped-def]
    bruno, chat = await scene()
    console, _ = await sockets.console(bruno)
    customer, _ = await sockets.customer(chat)

    await console.send_json_to({"type": "block", "chat": chat.pk, "reason": f" {REASON} "})
    # The answer and the closed chat frame come by two roads: either may arrive first.
    seen = await frames_until(console, lambda f: f["type"] == "blocked")
    if not any(is_closed_chat(chat)(f) for f in seen):
        seen += await frames_until(console, is_closed_chat(chat))
    answer = next(f for f in seen if f["type"] == "blocked")
    staff = next(f for f in seen if is_closed_chat(chat)(f))
    block = await db(CustomerBlock.objects.get)()
    assert answer == {"type": "blocked", "chat": chat.pk, "block": block.pk}
    assert (staff["close_reason"], staff["closed_by"]) == ("blocked", "agent")

    assert (block.email, block.browser_key, block.reason) == ("troll@example.com", KEY, REASON)
    assert (block.chat_id, block.created_by_id) == (chat.pk, bruno.pk)
    # The address only when asked for.
    assert (block.ip_hash, block.ip_blocked_until) == ("", None)
    fresh = await db(Chat.objects.get)(pk=chat.pk)
    assert (fresh.status, fresh.close_reason, fresh.closed_by) == ("closed", "blocked", "agent")
    event = await db(ChatEvent.objects.get)(chat_id=chat.pk, kind=ChatEvent.Kind.CLOSED)
    assert event.data == {"by": "agent", "reason": "blocked"}

    # The customer sees the chat end like any other, and nothing of the block.
    told = await frames_until(customer, is_closed_chat(chat))
    told += await frames_until_pong(customer)
    assert "Chat ended by Bruno." in [f.get("body") for f in told if f["type"] == "message"]
    wire = json.dumps(told).lower()
    assert "block" not in wire and REASON.lower() not in wire and "close_reason" not in wire

    # The same customer cannot start again, even with another email.
    with pytest.raises(CustomerBlocked):
        await db(blocking.chat_start_for_visitor)(
            topic=chat.topic, name="Tom", email="new@example.com", browser_key=KEY
        )


async def test_the_address_too_when_asked_for_at_most_7_days(sockets) -> None:  # type: ignore[no-untyped-def]
    bruno, chat = await scene()
    console, _ = await sockets.console(bruno)
    before = timezone.now()
    frame = {"type": "block", "chat": chat.pk, "reason": "x" * 500, "block_ip_minutes": 10080}
    await console.send_json_to(frame)
    await receive_type(console, "blocked")
    block = await db(CustomerBlock.objects.get)()
    assert block.ip_hash == address_hash(IP) and len(block.reason) == 500
    assert before + timedelta(days=7) <= block.ip_blocked_until <= timezone.now() + timedelta(7)


async def test_a_supervisor_blocks_in_a_colleagues_chat(sockets) -> None:  # type: ignore[no-untyped-def]
    _bruno, chat = await scene()
    lead = await db(ConsoleSupervisorFactory)()
    console, _ = await sockets.console(lead)
    await console.send_json_to({"type": "block", "chat": chat.pk, "reason": REASON})
    answer = await receive_type(console, "blocked")
    assert answer["chat"] == chat.pk
    block = await db(CustomerBlock.objects.get)()
    assert block.created_by_id == lead.pk
    assert (await state(chat))[:2] == ("closed", "blocked")


async def test_a_customer_known_by_nothing_but_the_address(sockets) -> None:  # type: ignore[no-untyped-def]
    bruno, chat = await scene(email="", browser_key="")
    await db(type(chat.customer).objects.filter(pk=chat.customer_id).update)(
        ip_hash=address_hash(IP)
    )
    console, _ = await sockets.console(bruno)

    error = await round_trip(console, {"type": "block", "chat": chat.pk, "reason": REASON})
    assert (error["type"], error["code"], error["chat"]) == ("error", "nothing_to_block", chat.pk)
    # One transaction: the chat is not left closed without its block.
    await assert_unchanged(chat)

    frame = {"type": "block", "chat": chat.pk, "reason": REASON, "block_ip_minutes": 60}
    await console.send_json_to(frame)
    await receive_type(console, "blocked")
    block = await db(CustomerBlock.objects.get)()
    assert (block.email, block.browser_key, block.ip_hash) == ("", "", address_hash(IP))


# --- Refused: an error frame, nothing changed, the socket still open ----------------------------


async def test_a_customer_cannot_send_it(sockets) -> None:  # type: ignore[no-untyped-def]
    _bruno, chat = await scene()
    customer, _ = await sockets.customer(chat)
    for frame in (
        {"type": "block", "reason": REASON},
        {"type": "block", "chat": chat.pk, "reason": REASON, "block_ip_minutes": 60},
    ):
        error = await round_trip(customer, frame)
        assert (error["type"], error["code"]) == ("error", "unknown_type")
    await assert_unchanged(chat)
    assert (await round_trip(customer, {"type": "ping"}))["type"] == "pong"


async def test_another_agents_chat_is_forbidden_and_names_who_has_it(sockets) -> None:  # type: ignore[no-untyped-def]
    _bruno, chat = await scene()
    alice = await db(AgentFactory)(first_name="Alice")
    console, _ = await sockets.console(alice)
    error = await round_trip(console, {"type": "block", "chat": chat.pk, "reason": REASON})
    assert (error["code"], error["chat"]) == ("forbidden", chat.pk)
    assert "Bruno" in error["detail"]
    await assert_unchanged(chat)


async def test_a_queued_chat_is_forbidden_to_an_agent(sockets) -> None:  # type: ignore[no-untyped-def]
    bruno, chat = await scene(assign=False)
    console, _ = await sockets.console(bruno)
    await console.send_json_to({"type": "block", "chat": chat.pk, "reason": REASON})
    error = await receive_type(console, "error")
    assert (error["code"], error["chat"]) == ("forbidden", chat.pk)
    await assert_unchanged(chat, status="queued")


async def test_a_closed_chat_or_no_such_chat(sockets) -> None:  # type: ignore[no-untyped-def]
    bruno, chat = await scene()
    await db(services.chat_close)(chat_id=chat.pk, by=services.Participant.customer())
    console, _ = await sockets.console(bruno)

    error = await round_trip(console, {"type": "block", "chat": chat.pk, "reason": REASON})
    assert (error["code"], error["chat"]) == ("chat_closed", chat.pk)
    error = await round_trip(console, {"type": "block", "chat": chat.pk + 999, "reason": REASON})
    assert (error["code"], error["chat"]) == ("chat_not_found", chat.pk + 999)
    assert await state(chat) == ("closed", "", 0)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, "invalid_frame"),
        ({"reason": None}, "invalid_frame"),
        ({"reason": 42}, "invalid_frame"),
        ({"reason": ["Insults"]}, "invalid_frame"),
        ({"reason": {"text": "Insults"}}, "invalid_frame"),
        ({"reason": ""}, "reason_required"),
        ({"reason": " \n\t "}, "reason_required"),
        ({"reason": "x" * 501}, "reason_too_long"),
        ({"reason": "nul\u0000inside"}, "reason_invalid"),
        ({"reason": REASON, "block_ip_minutes": -1}, "invalid_frame"),
        ({"reason": REASON, "block_ip_minutes": 10081}, "invalid_frame"),
        ({"reason": REASON, "block_ip_minutes": "60"}, "invalid_frame"),
        ({"reason": REASON, "block_ip_minutes": True}, "invalid_frame"),
        ({"reason": REASON, "block_ip_minutes": 1.5}, "invalid_frame"),
        ({"reason": REASON, "block_ip_minutes": [60]}, "invalid_frame"),
    ],
)
async def test_bad_fields(sockets, fields, code) -> None:  # type: ignore[no-untyped-def]
    bruno, chat = await scene()
    console, _ = await sockets.console(bruno)
    error = await round_trip(console, {"type": "block", "chat": chat.pk, **fields})
    assert (error["type"], error["code"], error["chat"]) == ("error", code, chat.pk)
    assert error["detail"]
    await assert_unchanged(chat)


@pytest.mark.parametrize("chat_field", [None, "1", 0, -3, True, 1.0])
async def test_a_bad_or_missing_chat(sockets, chat_field) -> None:  # type: ignore[no-untyped-def]
    bruno, chat = await scene()
    console, _ = await sockets.console(bruno)
    frame: dict[str, Any] = {"type": "block", "reason": REASON}
    if chat_field is not None:
        frame["chat"] = chat_field
    error = await round_trip(console, frame)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    await assert_unchanged(chat)
    assert (await round_trip(console, {"type": "ping"}))["type"] == "pong"
