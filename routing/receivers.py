"""Routing's subscriptions to chat's domain signals (connected in apps.RoutingConfig.ready).

Chat sends its signals with Signal.send, after commit, in the caller's thread: an exception
here would surface in a customer's request or an agent's socket about a change that is
already committed. So each receiver logs its own failures; the periodic tasks
(presence_sweep, queue_drain) heal what a failed receiver left undone.
"""

import logging
from typing import Any

from chat.models import Chat
from routing import services
from routing.policies import current_policy

logger = logging.getLogger(__name__)


def on_chat_queued(sender: Any, *, chat_id: int, **kwargs: Any) -> None:
    try:
        current_policy().on_chat_queued(chat_id=chat_id)
    except Exception:
        logger.exception("routing failed after chat %s was queued", chat_id)


def on_chat_closed(sender: Any, *, chat_id: int, **kwargs: Any) -> None:
    try:
        agent_id = Chat.objects.filter(pk=chat_id).values_list("agent_id", flat=True).first()
        if agent_id is not None:
            current_policy().on_slot_freed(agent_id=agent_id)
    except Exception:
        logger.exception("routing failed after chat %s was closed", chat_id)


def on_agent_available(sender: Any, *, agent_id: int, **kwargs: Any) -> None:
    try:
        current_policy().on_agent_available(agent_id=agent_id)
    except Exception:
        logger.exception("routing failed after agent %s became available", agent_id)


def on_agent_connected(sender: Any, *, agent_id: int, channel_name: str, **kwargs: Any) -> None:
    try:
        services.connection_open(agent_id=agent_id, channel_name=channel_name)
    except Exception:
        logger.exception("presence: could not record the console of agent %s", agent_id)


def on_agent_heartbeat(sender: Any, *, agent_id: int, channel_name: str, **kwargs: Any) -> None:
    try:
        services.connection_touch(agent_id=agent_id, channel_name=channel_name)
        services.presence_sweep()
    except Exception:
        logger.exception("presence: heartbeat of agent %s failed", agent_id)


def on_agent_disconnected(sender: Any, *, agent_id: int, channel_name: str, **kwargs: Any) -> None:
    try:
        services.connection_close(agent_id=agent_id, channel_name=channel_name)
        services.presence_sweep()
    except Exception:
        logger.exception("presence: disconnection of agent %s failed", agent_id)


# --- Queue standing: after the policy has run, customers learn where they stand -------------


def on_queue_changed(sender: Any, *, chat_id: int, **kwargs: Any) -> None:
    """A chat was queued, requeued, assigned or closed: its topic's queue moved (a close also
    moves the topic's mean handling time)."""
    try:
        services.queue_publish_for_chat(chat_id=chat_id)
    except Exception:
        logger.exception("could not publish the queue after a change of chat %s", chat_id)


def on_agent_available_queue(sender: Any, *, agent_id: int, **kwargs: Any) -> None:
    try:
        services.queue_publish_for_agent(agent_id=agent_id)
    except Exception:
        logger.exception("could not publish the queue after agent %s became available", agent_id)
