"""Domain events of the live chat, and their realtime publication.

Two kinds of consequence follow a committed state change:
- a frame published to an explicitly chosen audience of sockets (channel-layer groups), and
- a domain signal that feature apps (routing, transcripts, ...) subscribe to in their ready().

Both are scheduled with `transaction.on_commit`: nothing is published for a rolled-back change.
The channel layer is only a doorbell; a frame lost on the way is healed by the client's
`resume` from its last sequence number.
"""

import asyncio
import collections
import json
import logging
import os
import threading
import weakref
from functools import partial
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Signals, each sent after commit with `chat_id` (and `message_id`, `kind` and `queued` (the chat
# was queued when the message was stored) for message_posted,
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
    group_send_soon([(agent_group(agent_id), {"type": RESCOPE_EVENT})], what="console rescope")


def publish_now(*, groups: list[str], frame: dict[str, Any]) -> None:
    """Ring the doorbell; a failure here never undoes the stored change."""
    event = {"type": FRAME_EVENT, "frame": frame}
    group_send_soon([(group, event) for group in groups], what=str(frame.get("type")))


# --- Sending to the channel layer from synchronous code ----------------------------------------
#
# Services run in the server's one database thread (`database_sync_to_async`). Waiting there
# for each group_send (an `async_to_sync` round trip through the busy event loop, then Redis)
# held that thread, and so every socket's next frame, for as long as the loop took: under load
# the loop's backlog, not the database, set the pace. In a server, the sends are handed to the
# loop and the thread goes on; elsewhere (Celery, management commands) they are sent in place.

# Past this many batches waiting on the loop, callers wait for their own send: memory stays
# bounded when Redis is slow or gone, and the slowdown reaches the senders.
MAX_PENDING_SENDS = 10_000


class _LoopSends:
    """What one event loop has been handed and not sent yet, sent by one task in the order it
    was handed over (as when each send was made in place): a chat frame published before a
    transfer's result reaches every console before it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending = 0
        # Coalesced sends (group_send_soon's `coalesce`) scheduled but not started yet.
        self.coalesced: set[str] = set()
        # Touched on the loop's thread only.
        self.queue: collections.deque[tuple[list[tuple[str, dict[str, Any]]], str]] = (
            collections.deque()
        )
        self.sender: asyncio.Task[None] | None = None


# Per loop, so that a loop that stops with sends still queued (tests run one loop each) leaves
# nothing behind for the next.
_loop_sends: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSends] = (
    weakref.WeakKeyDictionary()
)
_loop_sends_lock = threading.Lock()


def group_send_soon(
    sends: list[tuple[str, dict[str, Any]]],
    *,
    what: str,
    coalesce: str = "",
    delay: float = 0.0,
) -> None:
    """Send `(group, event)` pairs in order, without waiting when a server's loop can do it.

    Failures are logged, never raised: the change they announce is committed, and clients heal
    with `resume`. Sends handed to the loop leave in the order they were handed over.
    `coalesce`: a key for events that carry nothing (doorbells): while one with the same key
    is scheduled and not yet sent, another is redundant and dropped. `delay`: seconds to wait
    first (with `coalesce`, a burst of changes then costs one send).
    """
    loop = _serving_loop()
    if loop is not None:
        with _loop_sends_lock:
            state = _loop_sends.setdefault(loop, _LoopSends())
        with state.lock:
            if coalesce and coalesce in state.coalesced:
                return
            handed_over = state.pending < MAX_PENDING_SENDS
            if handed_over:
                state.pending += 1
                if coalesce:
                    state.coalesced.add(coalesce)
        if handed_over:
            start = partial(_start_sending, loop, state, sends, what=what, coalesce=coalesce)
            if delay:
                loop.call_soon_threadsafe(loop.call_later, delay, start)
            else:
                loop.call_soon_threadsafe(start)
            return
    try:
        async_to_sync(_send_all)(sends)
    except Exception:
        logger.exception("could not send %s to %s", what, [group for group, _ in sends])


async def sends_settled() -> None:
    """Wait until every send handed to the running loop has left (for a test that must not
    see its setup's frames arrive after it connects)."""
    state = _loop_sends.get(asyncio.get_running_loop())
    while state is not None and state.pending > 0:
        await asyncio.sleep(0.005)


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of the server this thread works for, if the caller runs in a
    sync_to_async thread of a live loop of this process (asgiref records it per thread)."""
    threadlocal = SyncToAsync.threadlocal
    if getattr(threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop: asyncio.AbstractEventLoop | None = getattr(threadlocal, "main_event_loop", None)
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


def _start_sending(
    loop: asyncio.AbstractEventLoop,
    state: _LoopSends,
    sends: list[tuple[str, dict[str, Any]]],
    *,
    what: str,
    coalesce: str,
) -> None:
    if coalesce:
        with state.lock:
            state.coalesced.discard(coalesce)
    state.queue.append((sends, what))
    if state.sender is None or state.sender.done():
        state.sender = loop.create_task(_send_queued(state))


# Sends handed over meanwhile leave together, in one round trip to Redis when the layer can
# (chat.layers.ResumingRedisPubSubChannelLayer.group_send_batch), at most this many pairs.
MAX_SENDS_PER_BATCH = 256


async def _send_queued(state: _LoopSends) -> None:
    while state.queue:
        batches = [state.queue.popleft()]
        size = len(batches[0][0])
        while state.queue and size + len(state.queue[0][0]) <= MAX_SENDS_PER_BATCH:
            batches.append(state.queue.popleft())
            size += len(batches[-1][0])
        try:
            await _send_all([send for sends, _ in batches for send in sends])
        except Exception:
            if len(batches) == 1:
                _log_failed(*batches[0])
            else:
                # Each batch again on its own, so that one that cannot be sent does not take
                # the others with it. The sockets of this process had theirs already (the
                # layer delivers in-process first): only the publish is tried again. A frame may
                # still arrive twice in another process: clients drop a `seq` they already
                # have, and every other frame is a state.
                for sends, what in batches:
                    try:
                        await _send_all(sends, local=False)
                    except Exception:
                        _log_failed(sends, what)
        finally:
            with state.lock:
                state.pending -= len(batches)


def _log_failed(sends: list[tuple[str, dict[str, Any]]], what: str) -> None:
    logger.exception("could not send %s to %s", what, [group for group, _ in sends])


async def _send_all(sends: list[tuple[str, dict[str, Any]]], *, local: bool = True) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send_batch = getattr(layer, "group_send_batch", None)
    if send_batch is not None:
        await send_batch(sends, local=local)
        return
    for group, event in sends:
        await layer.group_send(group, event)
