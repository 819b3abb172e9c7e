"""The supervisors' live socket (/ws/supervise/): a `live` snapshot on connect and after changes.

Every frame the socket's groups carry is only a doorbell: the answer is a fresh snapshot,
coalesced so a burst of changes costs about two snapshots (docs/routing.md, "Live monitoring").
"""

import asyncio
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from chat import events as chat_events
from chat import protocol as chat_protocol
from chat.consumers import CLOSE_FLOODING, CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from chat.flood import FloodGuard
from helpdesk.roles import is_supervisor
from routing.live import live_snapshot
from routing.live_receivers import LIVE_GROUP

logger = logging.getLogger(__name__)

# At most one snapshot per this many seconds per socket; a change waits at most this long
# (plus the snapshot's own time) before it shows.
MIN_INTERVAL_SECONDS = 0.5
# Some changes ring no doorbell (an agent's presence expiring, a customer's wait crossing red
# before the sweep flags it): a slow refresh bounds how stale the page can get.
SAFETY_REFRESH_SECONDS = 15.0
# Every change of a queued chat, alerts to supervisors, and routing's doorbell.
GROUPS = (chat_events.QUEUE_ALL_GROUP, chat_events.SUPERVISORS_GROUP, LIVE_GROUP)


class SuperviseConsumer(AsyncJsonWebsocketConsumer):
    """Read-only: the only client frame is `ping`."""

    async def connect(self) -> None:
        self._refresher: asyncio.Task[None] | None = None
        self._safety: asyncio.Task[None] | None = None
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
        if not await database_sync_to_async(is_supervisor)(user):
            await self._refuse("forbidden", "Only supervisors watch the team.", CLOSE_FORBIDDEN)
            return
        # Join before reading, so no change falls between the first snapshot and the groups.
        for group in GROUPS:
            await self.channel_layer.group_add(group, self.channel_name)
        self._joined = True
        await self.accept()
        self._dirty = False
        self._last_sent = 0.0
        await self._send_snapshot()
        self._safety = asyncio.create_task(self._safety_loop())

    async def disconnect(self, code: int) -> None:
        for task in (self._refresher, self._safety):
            if task is not None:
                task.cancel()
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

    def _ring(self) -> None:
        self._dirty = True
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while self._dirty:
            wait = self._last_sent + MIN_INTERVAL_SECONDS - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            # Changes arriving from here on need the next snapshot; earlier ones this one.
            self._dirty = False
            try:
                await self._send_snapshot()
            except Exception:
                # The socket stays open; the next doorbell or the safety refresh retries.
                logger.exception("live snapshot failed")
                self._last_sent = loop.time()

    async def _safety_loop(self) -> None:
        while True:
            await asyncio.sleep(SAFETY_REFRESH_SECONDS)
            self._ring()

    async def _send_snapshot(self) -> None:
        snapshot = await database_sync_to_async(live_snapshot)()
        self._last_sent = asyncio.get_running_loop().time()
        await self.send_json(snapshot)
