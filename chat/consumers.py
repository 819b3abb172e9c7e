"""Websocket consumers: authenticate, validate frames, call one service, forward frames.

No business rule lives here. Each inbound frame costs at most one `db_hop` hop; messages
share theirs (chat.message_writer). Close codes and error codes are documented in
docs/protocol.md.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from channels.consumer import AsyncConsumer, get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from chat import dispatch, events, message_writer, protocol, selectors, services
from chat.db_hops import db_hop
from chat.errors import ChatNotFound
from chat.flood import FloodGuard
from chat.protocol import (
    ClientFrame,
    ExtensionFrame,
    MessageFrame,
    NoteFrame,
    ProtocolError,
    ResumeFrame,
    Role,
)
from chat.services import MessagePost, Participant
from chat.tokens import customer_token_read
from helpdesk.errors import DomainError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_NO_ROUTE = 4004
CLOSE_FLOODING = 4008
# The channel layer lost Redis for a while: reconnect and resume (docs/protocol.md). Not
# 1012 (service restart): ASGI servers accept only 1000 and 3000-4999.
CLOSE_LAYER_RECONNECTED = 4012

UNAVAILABLE_DETAIL = "The service is briefly unavailable; please retry in a few seconds."

# Each watched chat is one more channel-layer group for the socket.
MAX_WATCHED_CHATS = 20


class _Backlog:
    """Frames of this process being handled now: read, and waiting for or holding the one
    database thread. Past HELPDESK_WS_BUSY_FRAMES, new messages are refused with `busy`
    (resent by the client later) and typing frames dropped, so that under overload the wait of
    accepted frames and the memory they hold stay bounded instead of growing without end."""

    frames = 0


class DirectDispatch(AsyncConsumer):
    """Channels (4.2+) hops to the one database thread to close stale connections before every
    event a consumer handles: every frame delivered to a socket would then queue behind every
    message being stored, and delivery would run at the database thread's pace. Our consumers
    touch the database only through `db_hop`, which closes stale connections
    around each call itself, so events are dispatched directly."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


# What overload sheds: new messages (the client resends them) and typing (ephemeral). Resumes,
# takes, closes and the rest go through: they are how clients recover.
_SHED_WHEN_BUSY = frozenset({"message", "typing"})


class ServerBusy(ProtocolError):
    def __init__(self) -> None:
        super().__init__("busy", "The server is busy; send this message again in a moment.")


class _FrameConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """Shared frame handling: size, rate, JSON and schema checks, error frames."""

    role: Role

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self.flood = FloodGuard(
            rate_per_second=settings.HELPDESK_WS_RATE_PER_SECOND,
            burst=settings.HELPDESK_WS_RATE_BURST,
            abuse_rejections=settings.HELPDESK_WS_ABUSE_REJECTIONS,
        )
        await super().websocket_connect(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Every frame counts against the budget, junk included: binary or oversize frames
        # must not be a way around the flood control.
        if not self.flood.allow():
            if self.flood.abusive():
                await self.close(code=CLOSE_FLOODING)
                return
            await self.send_error("rate_limited", "Too many frames; slow down.")
            return
        if text_data is None:
            await self.send_error("invalid_frame", "Frames must be JSON text, not binary.")
            return
        if len(text_data) > protocol.MAX_FRAME_BYTES or (
            len(text_data) * 4 > protocol.MAX_FRAME_BYTES
            and len(text_data.encode()) > protocol.MAX_FRAME_BYTES
        ):
            await self.send_error("frame_too_large", "Frames are limited to 64 KiB.")
            return
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):
            await self.send_error("invalid_json", "The frame is not valid JSON.")
            return
        frame: ClientFrame | None = None
        try:
            frame = protocol.parse_client_frame(data, role=self.role)
            if (
                frame.type in _SHED_WHEN_BUSY
                and _Backlog.frames >= settings.HELPDESK_WS_BUSY_FRAMES
            ):
                if isinstance(frame, MessageFrame):
                    raise ServerBusy()
                return
            _Backlog.frames += 1
            try:
                await self.handle_frame(frame)
            finally:
                _Backlog.frames -= 1
        except DomainError as exc:
            await self.send_error(
                exc.code,
                exc.detail,
                chat=frame.chat if frame else None,
                client_msg_id=frame.client_msg_id if isinstance(frame, MessageFrame) else None,
            )
        except (OperationalError, InterfaceError):
            # The database is down or restarting: the socket stays usable and the client
            # retries (a resent message is stored once); the connection heals by itself.
            logger.warning("database unavailable for a frame", exc_info=True)
            await self.send_error(
                "unavailable",
                UNAVAILABLE_DETAIL,
                chat=frame.chat if frame else None,
                client_msg_id=frame.client_msg_id if isinstance(frame, MessageFrame) else None,
            )
        except Exception:
            # The socket stays usable; the client learns something went wrong on our side.
            logger.exception("frame handling failed")
            await self.send_error("internal_error", "Something went wrong; please retry.")

    async def handle_frame(self, frame: ClientFrame) -> None:
        raise NotImplementedError

    async def post_message(self, frame: MessageFrame, *, chat_id: int, sender: Participant) -> None:
        """Store a `message` frame (together with the process's other messages:
        chat.message_writer) and ack it. The protocol leaves a customer's frame without
        `origin` and `tone_overrides`."""
        result = await message_writer.message_post(
            MessagePost(
                chat_id=chat_id,
                sender=sender,
                body=frame.body,
                client_msg_id=frame.client_msg_id,
                origin=frame.origin,
                tone_overrides=tuple(frame.tone_overrides),
            )
        )
        await self.send_json(protocol.ack_frame(result.message))

    async def start_presence(
        self,
        *,
        opened: Callable[[], None],
        alive: Callable[[], None],
        closed: Callable[[], None],
    ) -> None:
        """Report this socket opened now, alive every HELPDESK_CONSOLE_HEARTBEAT_SECONDS, and
        closed on disconnect (the services send the matching domain events)."""
        await db_hop(opened)()
        self._presence_closed = closed
        self._heartbeat = asyncio.create_task(self._beat(alive))

    async def _beat(self, alive: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS)
            try:
                await db_hop(alive)()
            except Exception:
                # Logged and retried next beat: the socket itself is fine.
                socket = "console" if self.role == "agent" else "customer"
                logger.exception("%s heartbeat failed", socket)

    async def stop_presence(self) -> None:
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is None:
            return
        heartbeat.cancel()
        self._heartbeat = None
        await db_hop(self._presence_closed)()

    async def handle_extension(
        self, frame: ExtensionFrame, *, actor: Participant, chat_id: int | None
    ) -> None:
        handler = dispatch.frame_handler(role=self.role, frame_type=frame.type)
        assert handler is not None  # noqa: S101  (the parser only builds registered frames)
        replies = await db_hop(handler)(actor=actor, chat_id=chat_id, data=frame.data or {})
        for reply in replies:
            await self.send_json(reply)

    async def send_error(
        self, code: str, detail: str, *, chat: int | None = None, client_msg_id: str | None = None
    ) -> None:
        await self.send_json(
            protocol.error_frame(code=code, detail=detail, chat=chat, client_msg_id=client_msg_id)
        )

    async def refuse(self, *, code: str, detail: str, close_code: int) -> None:
        """Accept only to say why, then close with a documented code."""
        await self.accept()
        await self.send_error(code, detail)
        await self.close(code=close_code)

    async def frame_send(self, event: dict[str, Any]) -> None:
        """A frame published by a service (chat.events) for this socket's groups."""
        await self.send_json(event["frame"])

    async def layer_reconnected(self, event: dict[str, Any]) -> None:
        """Frames published while the channel layer was away from Redis never reached this
        socket (chat.layers): the client reconnects, gets a fresh state and resumes."""
        await self.close(code=CLOSE_LAYER_RECONNECTED)

    async def send_typing(
        self, groups: list[str], *, chat_id: int, kind: str, name: str | None
    ) -> None:
        frame = protocol.typing_frame(chat_id=chat_id, kind=kind, name=name)
        for group in groups:
            await self.channel_layer.group_send(group, {"type": events.FRAME_EVENT, "frame": frame})

    async def send_resume(self, frames: list[dict[str, Any]], *, chat_id: int, more: bool) -> None:
        for frame in frames:
            await self.send_json(frame)
        last_seq = frames[-1]["seq"] if frames else None
        await self.send_json(protocol.resumed_frame(chat_id=chat_id, last_seq=last_seq, more=more))


class CustomerChatConsumer(_FrameConsumer):
    """The customer's socket: one chat, opened by the token in the URL and nothing else."""

    role: Role = "customer"
    chat_id: int | None = None

    async def connect(self) -> None:
        token = self.scope["url_route"]["kwargs"]["token"]
        claim = customer_token_read(token)
        if claim is None:
            await self.refuse(
                code="invalid_token",
                detail="This chat link is not valid.",
                close_code=CLOSE_UNAUTHENTICATED,
            )
            return
        # Join before reading the state, so no change can fall between the two.
        group = events.customer_group(claim.chat_id)
        await self.channel_layer.group_add(group, self.channel_name)
        chat = await db_hop(selectors.chat_get_by_customer_token)(token=token)
        if chat is None:
            await self.channel_layer.group_discard(group, self.channel_name)
            await self.refuse(
                code="invalid_token",
                detail="This chat link is not valid.",
                close_code=CLOSE_UNAUTHENTICATED,
            )
            return
        self.chat_id = chat.pk
        await self.accept()
        await self.send_json(protocol.chat_frame_for_customer(chat))
        # The chat learns, now and then, that its customer is still here (abandoned chats).
        await self.start_presence(
            opened=partial(
                services.customer_socket_opened, chat_id=chat.pk, channel_name=self.channel_name
            ),
            alive=partial(
                services.customer_socket_alive, chat_id=chat.pk, channel_name=self.channel_name
            ),
            closed=partial(
                services.customer_socket_closed, chat_id=chat.pk, channel_name=self.channel_name
            ),
        )

    async def disconnect(self, code: int) -> None:
        if self.chat_id is not None:
            await self.channel_layer.group_discard(
                events.customer_group(self.chat_id), self.channel_name
            )
        await self.stop_presence()

    async def handle_frame(self, frame: ClientFrame) -> None:
        if frame.type == "ping":
            await self.send_json(protocol.pong_frame())
            return
        if frame.chat is not None and frame.chat != self.chat_id:
            raise ChatNotFound()
        chat_id = self.chat_id
        assert chat_id is not None  # noqa: S101  (frames only arrive after a successful connect)
        customer = Participant.customer()
        if isinstance(frame, ExtensionFrame):
            await self.handle_extension(frame, actor=customer, chat_id=chat_id)
        elif isinstance(frame, MessageFrame):
            await self.post_message(frame, chat_id=chat_id, sender=customer)
        elif isinstance(frame, ResumeFrame):
            frames, more = await db_hop(selectors.message_frames_for_customer)(
                chat_id=chat_id, after_seq=frame.after_seq
            )
            await self.send_resume(frames, chat_id=chat_id, more=more)
        elif frame.type == "typing":
            groups = await db_hop(services.typing_audience)(chat_id=chat_id, sender=customer)
            await self.send_typing(groups, chat_id=chat_id, kind="customer", name=None)
        elif frame.type == "close":
            await db_hop(services.chat_close)(chat_id=chat_id, by=customer)


class ConsoleConsumer(_FrameConsumer):
    """An agent's console: one socket for all of their chats and the queue."""

    role: Role = "agent"

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(
                code="unauthenticated",
                detail="Log in to use the console.",
                close_code=CLOSE_UNAUTHENTICATED,
            )
            return
        access = await db_hop(selectors.console_access)(user=user)
        if access is None:
            await self.refuse(
                code="forbidden",
                detail="Only agents can use the console.",
                close_code=CLOSE_FORBIDDEN,
            )
            return
        groups = self._groups_for(user, access)
        # Join before reading, so no change falls between the snapshot and the first frame.
        self.groups_joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        chats = await db_hop(selectors.console_chat_frames)(
            agent=user, queue_topics=access.queue_topics
        )
        self.user = user
        self.access = access
        self.watching: set[int] = set()
        await self.accept()
        await self.send_json(protocol.chats_frame(chats, server_time=timezone.now()))
        # Presence (routing's business) learns, now and then, that this console is still open.
        await self.start_presence(
            opened=partial(services.console_opened, agent=user, channel_name=self.channel_name),
            alive=partial(services.console_alive, agent=user, channel_name=self.channel_name),
            closed=partial(services.console_closed, agent=user, channel_name=self.channel_name),
        )

    @staticmethod
    def _groups_for(user: Any, access: selectors.ConsoleAccess) -> list[str]:
        groups = [events.agent_group(user.pk)]
        if access.queue_topics is None:
            groups.append(events.QUEUE_ALL_GROUP)
        else:
            groups += [events.queue_group(topic_id) for topic_id in sorted(access.queue_topics)]
        if access.is_supervisor:
            groups.append(events.SUPERVISORS_GROUP)
        return groups

    async def console_rescope(self, event: dict[str, Any]) -> None:
        """The agent's skills or role changed: follow the queues they may see now, and send a
        fresh snapshot (which replaces what the console knew)."""
        access = await db_hop(selectors.console_access)(user=self.user)
        if access is None:
            await self.send_error("forbidden", "Only agents can use the console.")
            await self.close(code=CLOSE_FORBIDDEN)
            return
        groups = self._groups_for(self.user, access)
        # Join the new groups before the snapshot and leave the old ones after it, so no
        # change of a chat the console still follows falls between them.
        for group in groups:
            if group not in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
        chats = await db_hop(selectors.console_chat_frames)(
            agent=self.user, queue_topics=access.queue_topics
        )
        for group in self.groups_joined:
            if group not in groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = groups
        self.access = access
        await self.send_json(protocol.chats_frame(chats, server_time=timezone.now()))

    async def _leave_groups(self) -> None:
        watched = [events.watch_group(chat_id) for chat_id in getattr(self, "watching", ())]
        for group in getattr(self, "groups_joined", []) + watched:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        await self._leave_groups()
        await self.stop_presence()

    async def handle_frame(self, frame: ClientFrame) -> None:
        if frame.type == "ping":
            await self.send_json(protocol.pong_frame())
            return
        agent = Participant.agent(self.user)
        if isinstance(frame, ExtensionFrame):
            await self.handle_extension(frame, actor=agent, chat_id=frame.chat)
            return
        chat_id = frame.chat
        assert chat_id is not None  # noqa: S101  (the protocol requires `chat` from agents)
        if isinstance(frame, MessageFrame):
            await self.post_message(frame, chat_id=chat_id, sender=agent)
        elif isinstance(frame, ResumeFrame):
            frames, more = await db_hop(selectors.message_frames_for_agent)(
                chat_id=chat_id, agent=self.user, after_seq=frame.after_seq, access=self.access
            )
            await self.send_resume(frames, chat_id=chat_id, more=more)
        elif frame.type == "typing":
            groups = await db_hop(services.typing_audience)(chat_id=chat_id, sender=agent)
            name = protocol.staff_display_name(self.user)
            await self.send_typing(groups, chat_id=chat_id, kind="agent", name=name)
        elif frame.type == "take":
            await db_hop(services.chat_assign)(
                chat_id=chat_id, agent=self.user, assigned_by=self.user
            )
        elif frame.type == "close":
            await db_hop(services.chat_close)(chat_id=chat_id, by=agent)
        elif isinstance(frame, NoteFrame):
            # The note reaches this socket through the chat's staff groups, like any change.
            await db_hop(services.note_add)(chat_id=chat_id, author=self.user, body=frame.body)
        elif frame.type == "summary":
            summary = await db_hop(selectors.chat_summary_frame)(
                chat_id=chat_id, agent=self.user, access=self.access
            )
            await self.send_json(summary)
        elif frame.type == "watch":
            await self.watch(chat_id)
        elif frame.type == "unwatch":
            self.watching.discard(chat_id)
            await self.channel_layer.group_discard(events.watch_group(chat_id), self.channel_name)

    async def watch(self, chat_id: int) -> None:
        """Follow a chat that is not this agent's (read-only; writable for supervisors)."""
        if chat_id not in self.watching and len(self.watching) >= MAX_WATCHED_CHATS:
            raise ProtocolError(
                "too_many_watched", f"A console can watch at most {MAX_WATCHED_CHATS} chats."
            )
        # Join first, so no change falls between the frame read below and the group.
        group = events.watch_group(chat_id)
        await self.channel_layer.group_add(group, self.channel_name)
        try:
            frame = await db_hop(selectors.chat_frame_for_agent)(
                chat_id=chat_id, agent=self.user, access=self.access
            )
        except DomainError:
            if chat_id not in self.watching:
                await self.channel_layer.group_discard(group, self.channel_name)
            raise
        self.watching.add(chat_id)
        await self.send_json(frame)


class NoRouteConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """Any other websocket path: say so with a close code instead of dropping the connection."""

    async def connect(self) -> None:
        await self.accept()
        await self.send_json(protocol.error_frame(code="not_found", detail="No such endpoint."))
        await self.close(code=CLOSE_NO_ROUTE)
