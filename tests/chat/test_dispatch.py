"""chat.dispatch: feature apps add frame types to the sockets without chat knowing them."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from chat import dispatch
from chat.models import Chat
from chat.protocol import CORE_TYPES, ExtensionFrame, ProtocolError, parse_client_frame
from chat.services import Participant
from helpdesk.errors import DomainError
from tests.chat.consumers.wsutil import db, pong_next, receive, receive_type
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat

ROLES = ["customer", "agent"]
SOCKETS = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def registry() -> Iterator[None]:
    """Whatever a test registers is gone afterwards: the registry is restored as it was."""
    saved = dict(dispatch._handlers)
    yield
    dispatch._handlers.clear()
    dispatch._handlers.update(saved)


class BadOutcome(DomainError):
    code = "bad_outcome"
    default_detail = "No such outcome."


@dataclass
class Handler:
    """A feature's handler: records its calls and answers with frames built by `reply`."""

    reply: Callable[..., list[dict[str, Any]]] = lambda **_: []
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, *, actor: Participant, chat_id: int | None, data: dict) -> list[dict]:
        # A handler runs in the frame's one database hop: the ORM works here, off the loop.
        assert threading.current_thread() is not threading.main_thread()
        chats = Chat.objects.count()
        self.calls.append({"actor": actor, "chat_id": chat_id, "data": data, "chats": chats})
        return self.reply(actor=actor, chat_id=chat_id, data=data)


def register(role: str, frame_type: str, handler: Callable[..., list[dict]]) -> None:
    dispatch.register_frame_handler(role=role, frame_type=frame_type, handler=handler)


def refused(data: Any, role: str) -> str:
    with pytest.raises(ProtocolError) as excinfo:
        parse_client_frame(data, role=role)
    return excinfo.value.code


# --- The registry -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_registered_handler_is_found_for_its_role_only(role: str) -> None:
    handler = Handler()
    register(role, "wrapup", handler)
    other = "agent" if role == "customer" else "customer"
    assert dispatch.frame_handler(role=role, frame_type="wrapup") is handler
    assert dispatch.frame_handler(role=other, frame_type="wrapup") is None
    assert dispatch.frame_handler(role=role, frame_type="handover") is None


def test_each_role_may_have_its_own_handler_for_a_type() -> None:
    for_customer, for_agent = Handler(), Handler()
    register("customer", "rating", for_customer)
    register("agent", "rating", for_agent)
    assert dispatch.frame_handler(role="customer", frame_type="rating") is for_customer
    assert dispatch.frame_handler(role="agent", frame_type="rating") is for_agent


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("frame_type", sorted(CORE_TYPES))
def test_a_core_type_cannot_be_registered_for_any_role(role: str, frame_type: str) -> None:
    # `take` is refused for customers too: it is a core type, and stays `forbidden` there.
    with pytest.raises(ValueError, match=frame_type):
        register(role, frame_type, Handler())
    assert dispatch.frame_handler(role=role, frame_type=frame_type) is None


def test_the_core_types_are_those_of_the_protocol() -> None:
    assert {
        "message",
        "typing",
        "resume",
        "take",
        "close",
        "watch",
        "unwatch",
        "note",
        "summary",
        "ping",
    } == CORE_TYPES


# --- Parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_registered_type_parses_into_an_extension_frame_with_the_whole_frame(role: str) -> None:
    register(role, "wrapup", Handler())
    data = {"type": "wrapup", "outcome": "solved", "tags": {"a": [1, 2]}}
    frame = parse_client_frame(data, role=role)
    assert isinstance(frame, ExtensionFrame)
    assert frame == ExtensionFrame(type="wrapup", chat=None, data=data)


@pytest.mark.parametrize("role", ROLES)
def test_the_parser_leaves_an_extension_frames_own_fields_to_its_handler(role: str) -> None:
    register(role, "wrapup", Handler())
    data = {"type": "wrapup", "after_seq": -1, "body": None, "client_msg_id": "\n"}
    assert parse_client_frame(data, role=role) == ExtensionFrame(type="wrapup", data=data)


@pytest.mark.parametrize("role", ROLES)
def test_an_unregistered_type_is_still_unknown(role: str) -> None:
    register(role, "wrapup", Handler())
    assert refused({"type": "handover"}, role) == "unknown_type"
    assert refused({"type": "chats"}, role) == "unknown_type"


def test_a_type_registered_for_agents_is_unknown_to_customers_and_vice_versa() -> None:
    register("agent", "handover", Handler())
    register("customer", "rating", Handler())
    assert refused({"type": "handover"}, "customer") == "unknown_type"
    assert refused({"type": "rating"}, "agent") == "unknown_type"


def test_a_core_type_of_the_other_role_is_still_forbidden() -> None:
    register("customer", "rating", Handler())
    register("agent", "handover", Handler())
    assert refused({"type": "take", "chat": 1}, "customer") == "forbidden"


@pytest.mark.parametrize("role", ROLES)
def test_registration_does_not_change_core_frames(role: str) -> None:
    register(role, "wrapup", Handler())
    frame = parse_client_frame({"type": "typing", "chat": 3}, role=role)
    assert not isinstance(frame, ExtensionFrame)
    assert (frame.type, frame.chat) == ("typing", 3)
    assert refused({"type": "type"}, role) == "unknown_type"


# --- On the customer's socket ----------------------------------------------------------------


@SOCKETS
async def test_the_customer_socket_calls_the_handler_and_answers_the_sender_only(
    sockets,
) -> None:
    handler = Handler(reply=lambda data, **_: [{"type": "rated", "stars": data["stars"]}])
    register("customer", "rating", handler)
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    await db(start_chat)()
    customer, _ = await sockets.customer(chat)
    second_tab, _ = await sockets.customer(chat)
    console, _ = await sockets.console(agent)

    await customer.send_json_to({"type": "rating", "stars": 5, "comment": "Great"})

    assert await receive(customer) == {"type": "rated", "stars": 5}
    (call,) = handler.calls
    assert call["actor"] == Participant.customer()
    assert call["chat_id"] == chat.pk
    assert call["data"] == {"type": "rating", "stars": 5, "comment": "Great"}
    assert call["chats"] == 2  # the handler reads the database
    # Neither the customer's other tab nor the agent got the reply: ping is answered in order.
    for other in (second_tab, console):
        await pong_next(other)
    await pong_next(customer)


@SOCKETS
async def test_a_customers_feature_frame_naming_their_own_chat_is_handled(sockets) -> None:
    handler = Handler()
    register("customer", "rating", handler)
    chat = await db(start_chat)()
    customer, _ = await sockets.customer(chat)
    await customer.send_json_to({"type": "rating", "chat": chat.pk, "stars": 4})
    await pong_next(customer)  # an empty reply sends nothing
    (call,) = handler.calls
    assert (call["chat_id"], call["data"]["chat"]) == (chat.pk, chat.pk)


@SOCKETS
async def test_a_customers_feature_frame_naming_another_chat_is_chat_not_found(sockets) -> None:
    # docs/protocol.md: "If they send one, it must be their chat's id." The consumer checks
    # `frame.chat` before dispatching, but an ExtensionFrame never carries `chat`, so the check
    # cannot fire and the handler runs with a `data["chat"]` that is not the caller's chat.
    handler = Handler()
    register("customer", "rating", handler)
    chat, other = await db(start_chat)(), await db(start_chat)()
    customer, _ = await sockets.customer(chat)
    await customer.send_json_to({"type": "rating", "chat": other.pk, "stars": 1})
    await customer.send_json_to({"type": "ping"})
    error = await receive(customer)  # the pong, if the frame was accepted without a word
    assert (error["type"], error.get("code")) == ("error", "chat_not_found")
    assert handler.calls == []


@SOCKETS
async def test_the_handlers_frames_arrive_in_order(sockets) -> None:
    replies = [{"type": "wrapup", "n": n} for n in range(3)]
    register("customer", "wrapup", Handler(reply=lambda **_: replies))
    chat = await db(start_chat)()
    customer, _ = await sockets.customer(chat)
    await customer.send_json_to({"type": "wrapup"})
    assert [await receive(customer) for _ in replies] == replies
    await pong_next(customer)


@SOCKETS
async def test_an_agents_type_is_unknown_on_the_customer_socket(sockets) -> None:
    handler = Handler()
    register("agent", "handover", handler)
    chat = await db(start_chat)()
    customer, _ = await sockets.customer(chat)
    error = await _round_trip(customer, {"type": "handover", "to": 1})
    assert (error["type"], error["code"]) == ("error", "unknown_type")
    error = await _round_trip(customer, {"type": "take"})
    assert (error["type"], error["code"]) == ("error", "forbidden")
    assert handler.calls == []


# --- On the console ---------------------------------------------------------------------------


@SOCKETS
async def test_the_console_calls_the_handler_and_answers_the_sender_only(sockets) -> None:
    handler = Handler(reply=lambda data, **_: [{"type": "wrapped", "outcome": data["outcome"]}])
    register("agent", "wrapup", handler)
    agent = await db(AgentFactory)()
    colleague = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    second_tab, _ = await sockets.console(agent)
    colleague_console, _ = await sockets.console(colleague)
    customer, _ = await sockets.customer(chat)

    await console.send_json_to({"type": "wrapup", "outcome": "solved"})

    assert await receive(console) == {"type": "wrapped", "outcome": "solved"}
    (call,) = handler.calls
    actor = call["actor"]
    assert (actor.kind, actor.user.pk) == ("agent", agent.pk)
    # The console is not bound to one chat, and this frame names none.
    assert call["chat_id"] is None
    assert call["data"] == {"type": "wrapup", "outcome": "solved"}
    for other in (second_tab, colleague_console, customer):
        await pong_next(other)
    await pong_next(console)


@SOCKETS
async def test_a_console_frame_naming_a_chat_gives_the_handler_that_chat(sockets) -> None:
    handler = Handler()
    register("agent", "handover", handler)
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    console, _ = await sockets.console(agent)
    await console.send_json_to({"type": "handover", "chat": chat.pk, "to": 7})
    await pong_next(console)  # an empty reply sends nothing
    (call,) = handler.calls
    assert call["chat_id"] == chat.pk
    assert call["data"] == {"type": "handover", "chat": chat.pk, "to": 7}


@SOCKETS
async def test_a_customers_type_is_unknown_on_the_console(sockets) -> None:
    handler = Handler()
    register("customer", "rating", handler)
    console, _ = await sockets.console(await db(AgentFactory)())
    error = await _round_trip(console, {"type": "rating", "stars": 5})
    assert (error["type"], error["code"]) == ("error", "unknown_type")
    assert handler.calls == []


# --- Handler errors --------------------------------------------------------------------------


def _raise(exc: Exception) -> Callable[..., list[dict]]:
    def reply(**_: Any) -> list[dict]:
        raise exc

    return reply


async def _round_trip(comm, frame: dict) -> dict:
    await comm.send_json_to(frame)
    return await receive(comm)


async def _open(sockets, role: str):
    """A socket of this role, and a frame that proves it still works afterwards."""
    if role == "customer":
        chat = await db(start_chat)()
        comm, _ = await sockets.customer(chat)
        return comm, {"type": "message", "body": "still here", "client_msg_id": "ok-1"}
    agent = await db(AgentFactory)()
    chat = await db(active_chat)(agent=agent)
    comm, _ = await sockets.console(agent)
    return comm, {"type": "message", "chat": chat.pk, "body": "still here", "client_msg_id": "ok-1"}


@SOCKETS
@pytest.mark.parametrize("role", ROLES)
async def test_a_domain_error_from_the_handler_is_an_error_frame_with_its_code(
    sockets, role: str
) -> None:
    handler = Handler(reply=_raise(BadOutcome("'meh' is not an outcome.")))
    register(role, "wrapup", handler)
    comm, still = await _open(sockets, role)

    error = await _round_trip(comm, {"type": "wrapup", "outcome": "meh"})

    assert error == {"type": "error", "code": "bad_outcome", "detail": "'meh' is not an outcome."}
    assert len(handler.calls) == 1
    # The socket stays usable: the feature's frames, and core frames too.
    await pong_next(comm)
    handler.reply = lambda data, **_: [{"type": "wrapped", "outcome": data["outcome"]}]
    assert await _round_trip(comm, {"type": "wrapup", "outcome": "solved"}) == {
        "type": "wrapped",
        "outcome": "solved",
    }
    await comm.send_json_to(still)
    assert (await receive_type(comm, "ack"))["client_msg_id"] == "ok-1"


@SOCKETS
@pytest.mark.parametrize("role", ROLES)
async def test_an_unexpected_error_from_the_handler_is_internal_error(sockets, role: str) -> None:
    register(role, "wrapup", Handler(reply=_raise(KeyError("outcome"))))
    comm, still = await _open(sockets, role)

    error = await _round_trip(comm, {"type": "wrapup"})

    assert (error["type"], error["code"]) == ("error", "internal_error")
    assert "outcome" not in error["detail"]  # nothing of the fault leaks
    await pong_next(comm)
    await comm.send_json_to(still)
    assert (await receive_type(comm, "ack"))["client_msg_id"] == "ok-1"
