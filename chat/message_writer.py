"""Group commit of the sockets' messages: what a server's sockets send meanwhile is stored
together (chat.services.messages_post).

One database hop and one transaction per message cost most of a message's database time: the
hop to a thread and back, BEGIN and COMMIT, and five statements. While one batch is being
stored, the messages that arrive wait and go together in the next, in one hop, one
transaction and a handful of statements; at low load a batch is one message and nothing
waits. Each sender still gets its own answer: the stored message, or its own error.
"""

import asyncio
import weakref

from django.conf import settings

from chat import services
from chat.db_hops import db_hop
from chat.services import MessagePost, PostResult

# Messages stored in one transaction at most: bounds the time the chats' row locks are held.
MAX_BATCH = 64
# Batches being stored at once (at most HELPDESK_DB_THREADS): one transaction that waits (for a
# row lock held elsewhere, say) must not hold up every message of the process.
MAX_BATCHES_IN_FLIGHT = 2


class _Writer:
    def __init__(self) -> None:
        self.waiting: list[tuple[MessagePost, asyncio.Future[PostResult]]] = []
        self.in_flight = 0
        # Held so that the loop's weak references are not the only ones.
        self.tasks: set[asyncio.Task[None]] = set()

    async def post(self, post: MessagePost) -> PostResult:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[PostResult] = loop.create_future()
        self.waiting.append((post, answer))
        if self.in_flight < min(MAX_BATCHES_IN_FLIGHT, settings.HELPDESK_DB_THREADS):
            self.in_flight += 1
            task = loop.create_task(self._store())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        # A socket that closes meanwhile cancels only its answer: its message is stored all
        # the same (a resend finds it), and the batch goes on.
        return await answer

    async def _store(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
                await self._store_batch(batch)
        finally:
            self.in_flight -= 1

    @staticmethod
    async def _store_batch(batch: list[tuple[MessagePost, asyncio.Future[PostResult]]]) -> None:
        try:
            outcomes = await db_hop(services.messages_post)([post for post, _ in batch])
        except Exception as exc:
            # The database is unreachable: nothing of this batch was stored.
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            return
        for (_, answer), outcome in zip(batch, outcomes, strict=True):
            if answer.done():
                continue
            if isinstance(outcome, Exception):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)


# Per event loop, as the layer's sends (tests run one loop each).
_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Writer] = (
    weakref.WeakKeyDictionary()
)


async def message_post(post: MessagePost) -> PostResult:
    """Store the message with whatever else this server's sockets are sending; its result, or
    its error raised (as chat.services.message_post would)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = _Writer()
    return await writer.post(post)
