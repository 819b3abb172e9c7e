"""The supervisors' live socket (/ws/supervise/): a `live` snapshot on connect and after changes.

Every frame the socket's groups carry is only a doorbell: the answer is a fresh snapshot,
coalesced so a burst of changes costs about two snapshots (docs/routing.md, "Live monitoring").
The sockets of one process share their snapshots (`LiveHub`): however many supervisors watch,
a refresh is computed once and sent to all of them.
"""

import asyncio
import json
import logging
import weakref
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from chat import events as chat_events
from chat import protocol as chat_protocol
from chat.consumers import CLOSE_FLOODING, CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, DirectDispatch
from chat.db_hops import db_hop
from chat.flood import FloodGuard
from helpdesk.roles import is_supervisor
from routing.live import live_snapshot
from routing.live_receivers import LIVE_GROUP

logger = logging.getLogger(__name__)

# At most one snapshot per this many seconds per process; a change waits at most this long
# (plus the snapshot's own time) before it shows.
MIN_INTERVAL_SECONDS = 0.5
# Some changes ring no doorbell (an agent's presence expiring, a customer's wait crossing red
# before the sweep flags it): a slow refresh bounds how stale the page can get.
SAFETY_REFRESH_SECONDS = 15.0
# Every change of a queued chat, alerts to supervisors, and routing's doorbell.
GROUPS = (chat_events.QUEUE_ALL_GROUP, chat_events.SUPERVISORS_GROUP, LIVE_GROUP)


class LiveHub:
    """The live sockets of one process (one event loop) and their shared refresh.

    A ring, from any socket (each socket gets every doorbell), marks every socket due; a new
    socket is due alone. One loop computes a snapshot for whoever is due when it starts (at
    most one per MIN_INTERVAL_SECONDS) and sends the same text to all of them. What is rung or
    joins during a computation is due for the next one, so no change is lost to sharing.
    """

    def __init__(self) -> None:
        self.members: set[SuperviseConsumer] = set()
        self._joining: set[SuperviseConsumer] = set()
        self._rung = False
        self._last_sent = float("-inf")
        self._refresher: asyncio.Task[None] | None = None
        self._safety: asyncio.Task[None] | None = None

    @property
    def due(self) -> bool:
        """Whether a snapshot is owed to some socket."""
        return self._rung or bool(self._joining)

    def join(self, socket: "SuperviseConsumer") -> None:
        """A socket that joined its groups: its first snapshot starts after this call."""
        self.members.add(socket)
        self._joining.add(socket)
        if self._safety is None or self._safety.done():
            self._safety = asyncio.create_task(self._safety_loop())
        self._wake()

    def leave(self, socket: "SuperviseConsumer") -> None:
        self.members.discard(socket)
        self._joining.discard(socket)
        if not self.members:
            for task in (self._refresher, self._safety):
                if task is not None:
                    task.cancel()
            self._refresher = self._safety = None
            self._rung = False

    def ring(self) -> None:
        self._rung = True
        self._wake()

    def _wake(self) -> None:
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while self.due:
            wait = self._last_sent + MIN_INTERVAL_SECONDS - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            # Rings and sockets arriving from here on need the next snapshot; these this one.
            targets = set(self.members) if self._rung else set(self._joining)
            self._rung = False
            self._joining.clear()
            try:
                snapshot = await db_hop(live_snapshot)()
            except Exception:
                # The sockets stay open; the next doorbell or the safety refresh retries.
                logger.exception("live snapshot failed")
                self._last_sent = loop.time()
                continue
            self._last_sent = loop.time()
            text = json.dumps(snapshot)
            for socket in targets & self.members:
                await socket.send_snapshot(text)

    async def _safety_loop(self) -> None:
        while True:
            await asyncio.sleep(SAFETY_REFRESH_SECONDS)
            self.ring()


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub]" = weakref.WeakKeyDictionary()


def live_hub() -> LiveHub:
    """The hub of the running event loop (daphne runs one per process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = LiveHub()
    return hub


class SuperviseConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """Read-only: the only client frame is `ping`."""

    async def connect(self) -> None:
        self._hub: LiveHub | None = None
        self._joined = False
        # Before any refusal: a refused socket may still receive a frame before it closes.
        self.flood = FloodGuard(
            rate_per_second=settings.HELPDESK_WS_RATE_PER_SECOND,
            burst=settings.HELPDESK_WS_RATE_BURST,
            abuse_rejections=settings.HELPDESK_WS_ABUSE_REJECTIONS,
        )
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(
                "unauthenticated", "Log in to watch the team.", CLOSE_UNAUTHENTICATED
            )
            return
        if not await db_hop(is_supervisor)(user):
            await self._refuse("forbidden", "Only supervisors watch the team.", CLOSE_FORBIDDEN)
            return
        # Join before reading, so no change falls between the first snapshot and the groups.
        for group in GROUPS:
            await self.channel_layer.group_add(group, self.channel_name)
        self._joined = True
        await self.accept()
        self._hub = live_hub()
        self._hub.join(self)

    async def disconnect(self, code: int) -> None:
        if self._hub is not None:
            self._hub.leave(self)
        if self._joined:
            for group in GROUPS:
                await self.channel_layer.group_discard(group, self.channel_name)

    async def _refuse(self, code: str, detail: str, close_code: int) -> None:
        """Accept only to say why, then close with the console's documented code."""
        await self.accept()
        await self.send_json(chat_protocol.error_frame(code=code, detail=detail))
        await self.close(code=close_code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.flood.allow():
            if self.flood.abusive():
                await self.close(code=CLOSE_FLOODING)
            else:
                await self._error("rate_limited", "Too many frames; slow down.")
            return
        if text_data is None:
            await self._error("invalid_frame", "Frames must be JSON text, not binary.")
            return
        if len(text_data.encode()) > chat_protocol.MAX_FRAME_BYTES:
            await self._error("frame_too_large", "Frames are limited to 64 KiB.")
            return
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):
            await self._error("invalid_json", "The frame is not valid JSON.")
            return
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await self._error("invalid_frame", "A frame must be a JSON object with a 'type'.")
            return
        if data["type"] == "ping":
            await self.send_json(chat_protocol.pong_frame())
            return
        await self._error("unknown_type", "This socket only answers 'ping'.")

    async def _error(self, code: str, detail: str) -> None:
        await self.send_json(chat_protocol.error_frame(code=code, detail=detail))

    async def frame_send(self, event: dict[str, Any]) -> None:
        """Any frame of the queue and supervisors groups (a queued chat's change, an alert)."""
        self._ring()

    async def live_changed(self, event: dict[str, Any]) -> None:
        """Routing's doorbell (routing.live_receivers)."""
        self._ring()

    async def layer_reconnected(self, event: dict[str, Any]) -> None:
        """The channel layer was away from Redis (chat.layers): doorbells may have been lost,
        a fresh snapshot makes up for them."""
        self._ring()

    def _ring(self) -> None:
        if self._hub is not None:
            self._hub.ring()

    async def send_snapshot(self, text: str) -> None:
        """A snapshot the hub computed, already JSON (the same text for every socket)."""
        try:
            await self.send(text_data=text)
        except Exception:
            # Closed meanwhile: the others still get theirs.
            logger.debug("live snapshot not sent to a closing socket", exc_info=True)
