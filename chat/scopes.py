"""Which queued chats a console sees.

Chat knows nothing of skills: every agent sees the whole queue unless a feature app narrows it
(routing registers the agent's topics in its AppConfig.ready()).
"""

from collections.abc import Callable, Collection
from typing import Any

# scope(user) -> the topic ids whose queue the agent sees, or None for every topic.
QueueScope = Callable[[Any], Collection[int] | None]

_queue_scope: QueueScope | None = None


def register_queue_scope(scope: QueueScope) -> None:
    global _queue_scope
    _queue_scope = scope


def queue_topics(user: Any) -> frozenset[int] | None:
    """The topics of the queue this agent sees; None: every topic. (Supervisors see every
    topic: chat.selectors.staff_access asks this only of others.)"""
    if _queue_scope is None:
        return None
    topics = _queue_scope(user)
    return None if topics is None else frozenset(topics)
