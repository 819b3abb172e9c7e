"""Delivery never waits for the database thread: frames published to a socket's groups and
pings are handled while that thread is busy storing someone else's message."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import events
from tests.chat.consumers.wsutil import db, receive
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_published_frame_and_a_pong_arrive_while_the_database_thread_is_held(
    sockets,
) -> None:
    chat = await db(active_chat)()
    customer, _ = await sockets.customer(chat)
    held, release = threading.Event(), threading.Event()

    def hold_the_database_thread() -> None:
        held.set()
        release.wait(5)

    holding = asyncio.ensure_future(database_sync_to_async(hold_the_database_thread)())
    try:
        assert await asyncio.to_thread(held.wait, 5)
        frame = {"type": "message", "chat": chat.pk, "seq": 99, "body": "hello"}
        await get_channel_layer().group_send(
            events.customer_group(chat.pk), {"type": events.FRAME_EVENT, "frame": frame}
        )
        assert await receive(customer) == frame
        await customer.send_json_to({"type": "ping"})
        assert await receive(customer) == {"type": "pong"}
    finally:
        release.set()
        await holding
