"""Routing's subscriptions to chat's domain signals (connected in apps.RoutingConfig.ready).

Chat sends its signals with Signal.send, after commit, in the caller's thread: an exception
here would surface in a customer's request or an agent's socket about a change that is
already committed. So each receiver logs its own failures; the periodic tasks
(presence_sweep, queue_drain) heal what a failed receiver left undone.
"""

import logging
from typing import Any

from chat import events as chat_events
from chat.models import Chat
from routing import services, transfers
from routing.models import AgentProfile
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
        services.presence_sweep_from_sockets()
    except Exception:
        logger.exception("presence: heartbeat of agent %s failed", agent_id)


def on_agent_disconnected(sender: Any, *, agent_id: int, channel_name: str, **kwargs: Any) -> None:
    try:
        services.connection_close(agent_id=agent_id, channel_name=channel_name)
        services.presence_sweep_from_sockets()
    except Exception:
        logger.exception("presence: disconnection of agent %s failed", agent_id)


# --- Queue standing: after the policy has run, customers learn where they stand -------------


def on_queue_changed(sender: Any, *, chat_id: int, **kwargs: Any) -> None:
    """A chat was queued, requeued, assigned or closed: its topic's queue moved (a close also
    moves the topic's mean handling time)."""
    try:
        if sender is chat_events.chat_queued and not kwargs.get("requeued"):
            services.queue_publish_for_new_chat(chat_id=chat_id)
        else:
            services.queue_publish_for_chat(chat_id=chat_id)
    except Exception:
        logger.exception("could not publish the queue after a change of chat %s", chat_id)


def on_agent_available_queue(sender: Any, *, agent_id: int, **kwargs: Any) -> None:
    try:
        services.queue_publish_for_agent(agent_id=agent_id)
    except Exception:
        logger.exception("could not publish the queue after agent %s became available", agent_id)


# --- Transfers: a request ends when its chat closes or leaves its agent ------------------------


def on_chat_closed_transfers(sender: Any, *, chat_id: int, **kwargs: Any) -> None:
    try:
        transfers.transfer_cancel_for_chat(chat_id=chat_id, reason="The chat has ended.")
    except Exception:
        logger.exception("could not cancel the transfer of closed chat %s", chat_id)


def on_chat_queued_transfers(sender: Any, *, chat_id: int, **kwargs: Any) -> None:
    if not kwargs.get("requeued"):
        return  # a new chat has no transfer
    try:
        transfers.transfer_cancel_for_chat(
            chat_id=chat_id, reason="The chat went back to the queue."
        )
    except Exception:
        logger.exception("could not cancel the transfer of requeued chat %s", chat_id)


def on_chat_handed_over(sender: Any, *, chat_id: int, from_agent_id: int, **kwargs: Any) -> None:
    """The sender of an accepted transfer has a free slot: the queue may flow to them."""
    try:
        current_policy().on_slot_freed(agent_id=from_agent_id)
    except Exception:
        logger.exception("routing failed after chat %s was handed over", chat_id)


# --- Skills: an agent's open consoles follow the queues of their topics -----------------------


def on_skills_changed(
    sender: Any, *, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    """AgentProfile.topics changed (admin, API, shell): the consoles of the agents concerned
    rejoin the queues they see now, after commit."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:
        # topic.agent_profiles.add(...): `instance` is the topic; `pk_set` are profiles (None
        # on clear, where nobody can be told which profiles lost the topic: rare, admin only).
        profile_ids = pk_set or ()
        agent_ids = AgentProfile.objects.filter(pk__in=profile_ids).values_list(
            "user_id", flat=True
        )
    else:
        agent_ids = [instance.user_id]
    for agent_id in agent_ids:
        chat_events.rescope_consoles_on_commit(agent_id=agent_id)
