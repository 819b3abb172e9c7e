"""Domain events of the live chat, and their realtime publication.

Two kinds of consequence follow a committed state change:
- a frame published to an explicitly chosen audience of sockets (channel-layer groups), and
- a domain signal that feature apps (routing, transcripts, ...) subscribe to in their ready().

Both are scheduled with `transaction.on_commit`: nothing is published for a rolled-back change.
The channel layer is only a doorbell; a frame lost on the way is healed by the client's
`resume` from its last sequence number.
"""

import json
import logging
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Signals, each sent after commit with `chat_id` (and `message_id` for message_posted,
# `agent_id` for chat_assigned, `requeued=True` for chat_queued when an agent left or the chat
# was transferred to a topic, `from_agent_id`/`to_agent_id` for chat_handed_over).
chat_queued = Signal()
chat_assigned = Signal()
chat_handed_over = Signal()
message_posted = Signal()
chat_closed = Signal()
# Console sockets, sent as they happen with `agent_id` and `channel_name`; heartbeats every
# HELPDESK_CONSOLE_HEARTBEAT_SECONDS while a socket stays open (presence lives in routing).
agent_connected = Signal()
agent_heartbeat = Signal()
agent_disconnected = Signal()
# Customer sockets, sent after commit with `chat_id` and `channel_name`, once
# `Chat.customer_last_seen_at` is written; heartbeats every HELPDESK_CONSOLE_HEARTBEAT_SECONDS
# while a socket stays open (routing closes a queued chat whose customer is gone).
customer_connected = Signal()
customer_heartbeat = Signal()
customer_disconnected = Signal()

# The channel-layer event type every consumer forwards as is (`frame.send` -> frame_send).
FRAME_EVENT = "frame.send"
# Tells an agent's consoles to recompute what they follow (`console.rescope` ->
# ConsoleConsumer.console_rescope): their skills or role changed while they were open.
RESCOPE_EVENT = "console.rescope"
# Consoles that see the whole queue (agents without skills, supervisors); the others join the
# queue group of each topic they handle (routing decides, chat.scopes).
QUEUE_ALL_GROUP = "queue.all"
# Every supervisor's console: alerts about chats that need attention.
SUPERVISORS_GROUP = "supervisors"


def customer_group(chat_id: int) -> str:
    """The customer's sockets of one chat. Only what the customer may read goes here."""
    return f"chat.{chat_id}"


def agent_group(user_id: int) -> str:
    """Every console socket (every tab) of one agent."""
    return f"agent.{user_id}"


def queue_group(topic_id: int) -> str:
    """Consoles that see the queue of one topic."""
    return f"queue.{topic_id}"


def queue_groups(topic_id: int) -> list[str]:
    """Where a change to a queued chat of this topic goes."""
    return [queue_group(topic_id), QUEUE_ALL_GROUP]


def watch_group(chat_id: int) -> str:
    """Consoles looking at a chat that is not theirs (read-only, or a supervisor)."""
    return f"watch.{chat_id}"


def publish_on_commit(*, groups: list[str], frame: dict[str, Any]) -> None:
    # Serialise now so an unserialisable payload fails at the line that built it, not later
    # in a callback far from the cause.
    json.dumps(frame)
    transaction.on_commit(partial(publish_now, groups=list(groups), frame=frame))


def send_on_commit(signal: Signal, **kwargs: Any) -> None:
    transaction.on_commit(partial(signal.send, sender=signal, **kwargs))


def rescope_consoles_on_commit(*, agent_id: int) -> None:
    """After commit, the agent's open consoles follow the queues they may see now and get a
    fresh snapshot."""
    transaction.on_commit(partial(_rescope_now, agent_id=agent_id))


def _rescope_now(*, agent_id: int) -> None:
    try:
        async_to_sync(_send_rescope)(agent_id)
    except Exception:
        # The consoles keep their old queues until they reconnect; log and carry on.
        logger.exception("could not rescope the consoles of agent %s", agent_id)


async def _send_rescope(agent_id: int) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(agent_group(agent_id), {"type": RESCOPE_EVENT})


def publish_now(*, groups: list[str], frame: dict[str, Any]) -> None:
    """Ring the doorbell; a failure here never undoes the stored change."""
    try:
        async_to_sync(_group_send_all)(groups, frame)
    except Exception:
        # The data is committed; clients heal with `resume`. Log and carry on.
        logger.exception("could not publish %s to %s", frame.get("type"), groups)


async def _group_send_all(groups: list[str], frame: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    event = {"type": FRAME_EVENT, "frame": frame}
    for group in groups:
        await layer.group_send(group, event)
