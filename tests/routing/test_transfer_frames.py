"""The transfer frames over real sockets: two consoles and a customer, the whole round trip;
errors come back as `error` frames naming the chat and the sockets stay usable; a console that
reconnects gets its open requests back; and the lists cost a fixed number of queries."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from chat.models import Chat
from routing import transfer_selectors, transfers
from routing.models import AgentProfile
from tests.chat.consumers.wsutil import (
    Sockets,
    db,
    frames_until,
    pong_next,
    receive_type,
    round_trip,
)
from tests.factories import TopicFactory
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _manual_routing(settings) -> None:  # type: ignore[no-untyped-def]
    # Committed tests run every drain: keep the chats where the tests put them.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    yield opened
    await opened.close_all()


@db
def team(*, bruno_max: int = 3) -> tuple[Any, Any, Chat]:
    returns = TopicFactory(name="Returns", slug="returns")
    alice = make_agent(topics=[returns], first_name="Alice", present=False)
    bruno = make_agent(first_name="Bruno", present=False, max_chats=bruno_max)
    return alice, bruno, held_chat(alice, topic=returns)


def chat_frame_of(chat_id: int):  # type: ignore[no-untyped-def]
    return lambda f: f["type"] == "chat" and f["id"] == chat_id


async def test_a_transfer_from_request_to_acceptance(sockets) -> None:
    alice, bruno, chat = await team()
    alice_ws, _ = await sockets.console(alice)
    bruno_ws, _ = await sockets.console(bruno)
    customer, _ = await sockets.customer(chat)

    targets = await round_trip(alice_ws, {"type": "transfer_targets", "chat": chat.pk})
    assert targets["type"] == "transfer_targets" and targets["chat"] == chat.pk
    assert targets["agents"] == [
        {
            "id": bruno.pk,
            "name": "Bruno",
            "seniority": "agent",
            "open_chats": 0,
            "max_chats": 3,
            "handles_topic": True,
        }
    ]
    assert targets["topics"] == [{"slug": "returns", "name": "Returns", "agents_available": 1}]
    assert targets["seniors_available"] == 0

    sent = await round_trip(
        alice_ws,
        {"type": "transfer", "chat": chat.pk, "to": {"agent": bruno.pk}, "note": NOTE},
    )
    assert (sent["type"], sent["status"], sent["chat"]) == ("transfer", "pending", chat.pk)
    request = await receive_type(bruno_ws, "transfer_request")
    assert (request["id"], request["note"], request["from"]["name"]) == (sent["id"], NOTE, "Alice")
    assert request["chat"]["id"] == chat.pk and request["chat"]["agent"]["id"] == alice.pk

    result = await round_trip(
        bruno_ws, {"type": "transfer_reply", "transfer": sent["id"], "accept": True}
    )
    assert (result["type"], result["status"]) == ("transfer_result", "accepted")
    mine = (await frames_until(bruno_ws, chat_frame_of(chat.pk)))[-1]
    assert mine["agent"]["id"] == bruno.pk
    assert (mine["transfer_count"], mine["transfer"]["note"]) == (1, NOTE)

    # Alice learns the result and sees the chat leave her (the chat frame comes first: the
    # hand-over commits it before the result is published).
    seen = await frames_until(alice_ws, lambda f: f["type"] == "transfer_result")
    told = seen[-1]
    assert (told["id"], told["status"], told["by"]["name"]) == (sent["id"], "accepted", "Bruno")
    gone = [f for f in seen if chat_frame_of(chat.pk)(f)][-1]
    assert gone["agent"]["id"] == bruno.pk

    # The customer is told, and sees nothing of the note.
    customer_frames = await frames_until(
        customer, lambda f: f["type"] == "message" and "passed your chat" in f["body"]
    )
    assert NOTE not in str(customer_frames)

    # Bruno reads the whole conversation.
    await bruno_ws.send_json_to({"type": "resume", "chat": chat.pk, "after_seq": 0})
    history = await frames_until(bruno_ws, lambda f: f["type"] == "resumed")
    bodies = [f["body"] for f in history if f["type"] == "message"]
    assert "Where is my parcel?" in bodies and "Hello Ana, let me look into it." in bodies


async def test_errors_name_the_chat_and_leave_the_socket_open(sockets) -> None:
    alice, _bruno, chat = await team()
    away = await db(make_agent)(status="away")
    alice_ws, _ = await sockets.console(alice)

    error = await round_trip(
        alice_ws,
        {"type": "transfer", "chat": chat.pk, "to": {"agent": away.pk}, "note": NOTE},
    )

    assert error["type"] == "error" and error["code"] == "agent_unavailable"
    assert error["chat"] == chat.pk
    error = await round_trip(
        alice_ws, {"type": "transfer", "chat": chat.pk, "to": {"senior": True}, "note": ""}
    )
    assert (error["code"], error["chat"]) == ("note_required", chat.pk)
    await pong_next(alice_ws)


async def test_a_receiver_at_capacity_gets_the_error_and_the_sender_the_decline(sockets) -> None:
    alice, bruno, chat = await team(bruno_max=1)
    await db(held_chat)(bruno, topic=chat.topic)
    alice_ws, _ = await sockets.console(alice)
    bruno_ws, _ = await sockets.console(bruno)
    sent = await round_trip(
        alice_ws, {"type": "transfer", "chat": chat.pk, "to": {"agent": bruno.pk}, "note": NOTE}
    )

    await bruno_ws.send_json_to(
        {"type": "transfer_reply", "transfer": sent["id"], "chat": chat.pk, "accept": True}
    )
    error = await receive_type(bruno_ws, "error")

    assert (error["type"], error["code"], error["chat"]) == ("error", "over_capacity", chat.pk)
    told = await receive_type(alice_ws, "transfer_result")
    assert (told["status"], told["reason"]) == ("declined", "Bruno has no room for another chat.")
    assert await db(Chat.objects.values_list("agent_id", flat=True).get)(pk=chat.pk) == alice.pk


async def test_a_declined_request_returns_with_the_reason_and_cancel_withdraws_one(
    sockets,
) -> None:
    alice, bruno, chat = await team()
    alice_ws, _ = await sockets.console(alice)
    bruno_ws, _ = await sockets.console(bruno)
    first = await round_trip(
        alice_ws, {"type": "transfer", "chat": chat.pk, "to": {"agent": bruno.pk}, "note": NOTE}
    )
    await receive_type(bruno_ws, "transfer_request")
    await round_trip(
        bruno_ws,
        {"type": "transfer_reply", "transfer": first["id"], "accept": False, "reason": "Busy"},
    )
    told = await receive_type(alice_ws, "transfer_result")
    assert (told["id"], told["status"], told["reason"]) == (first["id"], "declined", "Busy")

    second = await round_trip(
        alice_ws, {"type": "transfer", "chat": chat.pk, "to": {"agent": bruno.pk}, "note": NOTE}
    )
    assert second["status"] == "pending"
    # The answer comes to the sending socket, and again to every console of the agent.
    assert await receive_type(alice_ws, "transfer") == second
    cancelled = await round_trip(alice_ws, {"type": "transfer_cancel", "transfer": second["id"]})
    assert (cancelled["type"], cancelled["status"]) == ("transfer_result", "cancelled")
    withdrawn = await receive_type(bruno_ws, "transfer_cancelled")
    assert (withdrawn["id"], withdrawn["chat"]) == (second["id"], chat.pk)


async def test_a_console_gets_its_open_requests_back_after_reconnecting(sockets) -> None:
    alice, bruno, chat = await team()
    alice_ws, _ = await sockets.console(alice)
    bruno_ws, _ = await sockets.console(bruno)
    sent = await round_trip(
        alice_ws, {"type": "transfer", "chat": chat.pk, "to": {"agent": bruno.pk}, "note": NOTE}
    )
    assert sent["status"] == "pending"
    # Both consoles reload; the request stays open meanwhile.
    await alice_ws.disconnect()
    await bruno_ws.disconnect()

    bruno_ws, _ = await sockets.console(bruno)
    open_requests = await round_trip(bruno_ws, {"type": "transfers"})
    assert open_requests["type"] == "transfers" and open_requests["sent"] == []
    (request,) = open_requests["received"]
    assert (request["type"], request["id"], request["note"]) == (
        "transfer_request",
        sent["id"],
        NOTE,
    )
    assert request["chat"]["preview"] == "Where is my parcel?"

    alice_again, _ = await sockets.console(alice)
    mine = await round_trip(alice_again, {"type": "transfers"})
    assert [t["id"] for t in mine["sent"]] == [sent["id"]] and mine["received"] == []


# --- Bounded queries, whatever the size of the team ---------------------------------------------


def _grow_team(topic: Any, size: int) -> None:
    for index in range(size):
        agent = make_agent(topics=[topic] if index % 2 else [TopicFactory()])
        if index % 3 == 0:
            AgentProfile.objects.filter(user=agent).update(seniority="senior")
            held_chat(agent, topic=topic)


def test_transfer_targets_costs_the_same_queries_for_any_team(
    django_assert_max_num_queries,
) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    alice = make_agent(topics=[topic])
    chat = held_chat(alice, topic=topic)
    _grow_team(topic, 2)
    with django_assert_max_num_queries(5):
        small = transfer_selectors.transfer_targets(chat_id=chat.pk, agent=alice)

    _grow_team(topic, 12)
    for _ in range(4):
        TopicFactory()
    with django_assert_max_num_queries(5):
        large = transfer_selectors.transfer_targets(chat_id=chat.pk, agent=alice)

    assert (len(small["agents"]), len(large["agents"])) == (2, 14)
    assert len(large["topics"]) > len(small["topics"])


def test_the_open_requests_cost_two_queries(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    bruno = make_agent()
    for _ in range(4):
        sender = make_agent(topics=[topic])
        chat = held_chat(sender, topic=topic)
        transfers.transfer_to_agent(chat_id=chat.pk, sender=sender, to_agent_id=bruno.pk, note=NOTE)

    with django_assert_num_queries(2):
        frame = transfer_selectors.pending_transfers_frame(agent=bruno)

    assert len(frame["received"]) == 4
