"""The live chat on both channels_redis layers (pub/sub and core) against a real Redis.

The exchange runs the consumers in this process (WebsocketCommunicator); the idle test runs
live daphne processes, one per layer.
"""

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from chat.models import Message
from helpdesk.asgi import application
from tests.conftest import LiveServer
from tests.factories import AgentFactory
from tests.helpers import start_chat, token_for
from tests.integration.conftest import WsClient, server_log_problems, session_cookie_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
LAYERS = {
    # The product's (helpdesk/settings.py): pub/sub, batched sends, told of reconnections.
    "resuming": "chat.layers.ResumingRedisPubSubChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}


@pytest.fixture(params=sorted(LAYERS))
def redis_layer(request: pytest.FixtureRequest, settings: Any, redis_url: str) -> str:
    backend = LAYERS[request.param]
    config: dict[str, Any] = {
        "hosts": [{"address": redis_url}],
        # Each test its own keys/channels: nothing from another test (or run) can leak in.
        "prefix": f"it-{uuid.uuid4().hex[:8]}",
    }
    if request.param == "core":  # as helpdesk/settings.py configures it
        config["hosts"][0]["max_connections"] = 1000
        config["capacity"] = 5000
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": backend, "CONFIG": config}}
    layer = type(get_channel_layer())
    assert f"{layer.__module__}.{layer.__qualname__}" == backend  # the switch took effect
    return backend


async def drain(comm: WebsocketCommunicator, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Everything the socket receives until it has been quiet for `quiet` seconds."""
    frames = []
    while not await comm.receive_nothing(timeout=quiet):
        frames.append(await comm.receive_json_from())
    return frames


async def receive_until(
    comm: WebsocketCommunicator, log: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    """Receive (keeping every frame in `log`) until a frame has all of `fields`."""
    while True:
        frame = await comm.receive_json_from(timeout=10)
        log.append(frame)
        if all(frame.get(k) == v for k, v in fields.items()):
            return frame


def message_counts(frames: list[dict[str, Any]]) -> Counter[int]:
    return Counter(f["seq"] for f in frames if f["type"] == "message")


async def connect_console(agent: Any) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    console = WebsocketCommunicator(application, "/ws/console/", headers=[ORIGIN])
    console.scope["user"] = agent
    connected, _ = await console.connect()
    assert connected
    snapshot = await console.receive_json_from(timeout=10)
    assert snapshot["type"] == "chats"
    return console, snapshot


async def test_customer_and_agent_exchange_messages_over_redis(redis_layer: str) -> None:
    chat = await database_sync_to_async(start_chat)(message="Where is my parcel?")
    agent, other_agent = await database_sync_to_async(lambda: (AgentFactory(), AgentFactory()))()
    customer_log: list[dict[str, Any]] = []
    tab2_log: list[dict[str, Any]] = []
    console_log: list[dict[str, Any]] = []
    bystander_log: list[dict[str, Any]] = []

    customer = WebsocketCommunicator(application, f"/ws/chat/{token_for(chat)}/")
    tab2 = WebsocketCommunicator(application, f"/ws/chat/{token_for(chat)}/")
    for comm, log in ((customer, customer_log), (tab2, tab2_log)):
        assert (await comm.connect())[0]
        state = await receive_until(comm, log, type="chat")
        assert (state["id"], state["status"], state["last_seq"]) == (chat.pk, "queued", 2)

    console, snapshot = await connect_console(agent)
    assert [c["id"] for c in snapshot["chats"]] == [chat.pk]
    bystander, _ = await connect_console(other_agent)

    # While queued, every agent sees what the waiting customer adds (through the queue group).
    await customer.send_json_to({"type": "message", "body": "Hello?", "client_msg_id": "c-0"})
    c0 = await receive_until(customer, customer_log, type="ack")
    assert (c0["client_msg_id"], c0["seq"]) == ("c-0", 3)
    await receive_until(console, console_log, type="message", seq=3)
    await receive_until(bystander, bystander_log, type="message", seq=3)

    await console.send_json_to({"type": "take", "chat": chat.pk})
    taken = await receive_until(console, console_log, type="chat", status="active")
    assert taken["agent"]["id"] == agent.pk and taken["last_seq"] == 4
    state = await receive_until(customer, customer_log, type="chat", status="active")
    assert state["agent"]["name"] == agent.first_name
    await receive_until(bystander, bystander_log, type="chat", status="active")

    await console.send_json_to({"type": "typing", "chat": chat.pk})
    typing = await receive_until(customer, customer_log, type="typing")
    assert (typing["chat"], typing["kind"], typing["name"]) == (chat.pk, "agent", agent.first_name)

    await console.send_json_to(
        {"type": "message", "chat": chat.pk, "body": "Hello Ana", "client_msg_id": "a-1"}
    )
    a1 = await receive_until(console, console_log, type="ack", client_msg_id="a-1")
    got = await receive_until(customer, customer_log, type="message", seq=a1["seq"])
    assert (got["body"], got["kind"], got["author"]) == ("Hello Ana", "agent", agent.first_name)
    assert got["client_msg_id"] == "a-1"
    await receive_until(tab2, tab2_log, type="message", seq=a1["seq"])

    await customer.send_json_to({"type": "typing"})
    typing = await receive_until(console, console_log, type="typing")
    assert (typing["chat"], typing["kind"]) == (chat.pk, "customer")

    await customer.send_json_to({"type": "message", "body": "Thanks!", "client_msg_id": "c-1"})
    c1 = await receive_until(customer, customer_log, type="ack", client_msg_id="c-1")
    assert c1["seq"] == a1["seq"] + 1
    seen = await receive_until(console, console_log, type="message", seq=c1["seq"])
    assert (seen["body"], seen["kind"], seen["client_msg_id"]) == ("Thanks!", "customer", "c-1")

    # A resend of an acked message (its ack was lost, say) is acked with the original seq.
    await customer.send_json_to({"type": "message", "body": "Thanks!", "client_msg_id": "c-1"})
    again = await receive_until(customer, customer_log, type="ack", client_msg_id="c-1")
    assert again is not c1 and again["seq"] == c1["seq"]

    customer_log += await drain(customer)
    tab2_log += await drain(tab2)
    console_log += await drain(console)
    bystander_log += await drain(bystander)

    # Each socket of the chat got each of the live messages exactly once, the resend nothing.
    live = {a1["seq"], c1["seq"]}
    for log in (customer_log, tab2_log, console_log):
        counts = message_counts(log)
        assert all(n == 1 for n in counts.values()), counts
        assert live <= set(counts), counts
    # Typing goes to the other side only, never back to its sender.
    assert [f["kind"] for f in customer_log if f["type"] == "typing"] == ["agent"]
    assert [f["kind"] for f in tab2_log if f["type"] == "typing"] == ["agent"]
    assert [f["kind"] for f in console_log if f["type"] == "typing"] == ["customer"]
    # Once the chat is taken, another agent no longer receives its messages or typing.
    assert set(message_counts(bystander_log)) == {3}, bystander_log
    assert not [f for f in bystander_log if f["type"] == "typing"]
    assert not [f for f in customer_log + console_log if f["type"] == "error"]

    history = []
    await customer.send_json_to({"type": "resume", "after_seq": 0})
    frame = await customer.receive_json_from(timeout=10)
    while frame["type"] != "resumed":
        history.append(frame["seq"])
        frame = await customer.receive_json_from(timeout=10)
    assert history == list(range(1, c1["seq"] + 1))
    assert (frame["last_seq"], frame["more"]) == (c1["seq"], False)
    stored = await database_sync_to_async(
        lambda: list(Message.objects.filter(chat=chat).values_list("seq", flat=True))
    )()
    assert stored == history

    for comm in (customer, tab2, console, bystander):
        await comm.disconnect()


async def test_the_agent_joined_message_is_delivered_live(settings: Any, redis_url: str) -> None:
    """docs/protocol.md: a `message` frame goes "to every socket of the chat" for every stored
    message, system messages included. Taking a chat stores "<agent> joined the chat."; the
    customer (and the console) must get it as a message frame, not only via a later resume."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": LAYERS["pubsub"],
            "CONFIG": {"hosts": [{"address": redis_url}], "prefix": f"it-{uuid.uuid4().hex[:8]}"},
        }
    }
    chat = await database_sync_to_async(start_chat)()
    agent = await database_sync_to_async(AgentFactory)()
    customer_log: list[dict[str, Any]] = []
    console_log: list[dict[str, Any]] = []
    customer = WebsocketCommunicator(application, f"/ws/chat/{token_for(chat)}/")
    assert (await customer.connect())[0]
    await receive_until(customer, customer_log, type="chat")
    console, _ = await connect_console(agent)

    await console.send_json_to({"type": "take", "chat": chat.pk})
    await receive_until(customer, customer_log, type="chat", status="active")
    customer_log += await drain(customer)
    console_log += await drain(console)

    joined = await database_sync_to_async(
        lambda: Message.objects.get(chat=chat, kind="system", body__endswith="joined the chat.")
    )()
    assert joined.seq in message_counts(customer_log), (
        f"the customer never received message #{joined.seq} {joined.body!r}: {customer_log}"
    )
    assert joined.seq in message_counts(console_log), console_log
    await customer.disconnect()
    await console.disconnect()


# Longer than the core layer's blocking read on its process channel (BZPOPMIN, 5 s).
IDLE_SECONDS = 8


def test_idle_sockets_stay_open_on_both_layers(
    redis_url: str, live_server_factory: Callable[..., LiveServer], live_env: dict[str, str]
) -> None:
    """Chats go quiet for minutes; a quiet socket must stay served on either layer."""
    chat = start_chat()
    session = session_cookie_for(AgentFactory())
    servers = {
        layer: live_server_factory(env={**live_env, "HELPDESK_CHANNEL_LAYER": layer})
        # HELPDESK_CHANNEL_LAYER's choices; "pubsub" is the product's resuming layer.
        for layer in ("core", "pubsub")
    }

    async def scenario() -> list[str]:
        sockets: list[WsClient] = []
        for layer, server in servers.items():
            customer = await WsClient.connect(
                f"{server.ws_url}/ws/chat/{token_for(chat)}/", name=f"{layer} customer"
            )
            await customer.wait_type("chat")
            console = await WsClient.connect(
                f"{server.ws_url}/ws/console/",
                origin=server.url,
                session=session,
                name=f"{layer} console",
            )
            await console.wait_type("chats")
            sockets += [customer, console]

        await asyncio.sleep(IDLE_SECONDS)  # nobody says anything

        problems = []
        for client in sockets:
            if client.closed.is_set():
                problems.append(f"{client.name}: closed by the server ({client.ws.close_code})")
                continue
            start = len(client.frames)
            await client.send(type="ping")
            await client.wait_for(lambda f: f["type"] == "pong", start=start, what="pong")
            await client.close()
        return problems

    problems = asyncio.run(scenario())
    for layer, server in servers.items():
        problems += [f"{layer} server log: {line}" for line in server_log_problems(server)]
    assert not problems, "\n".join(problems)
