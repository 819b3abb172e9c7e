"""The routing policy: the one pluggable seam deciding what happens when work or room appears.

settings.HELPDESK_ROUTING_POLICY names the class (read at every call, so tests and deployments
can switch it). Hooks receive ids, never model instances, so a policy could hand them to Celery.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from routing import services


class RoutingPolicy:
    """Base: every hook does nothing. Subclass and override the hooks you need."""

    def on_chat_queued(self, *, chat_id: int) -> None:
        """A chat entered the queue (new, or requeued at the front when its agent left)."""

    def on_slot_freed(self, *, agent_id: int) -> None:
        """One of the agent's chats closed: they may have room for another."""

    def on_agent_available(self, *, agent_id: int) -> None:
        """An agent chose online with a console open, or opened a console while online."""

    def on_tick(self) -> None:
        """Periodically (Celery beat): a safety net for a trigger missed, e.g. a chat that
        was locked by another transaction when the last drain passed it over."""


class AutomaticPolicy(RoutingPolicy):
    """Each trigger drains the queue: longest-waiting chat to the least-loaded eligible agent."""

    def on_chat_queued(self, *, chat_id: int) -> None:
        services.queue_drain()

    def on_slot_freed(self, *, agent_id: int) -> None:
        services.queue_drain()

    def on_agent_available(self, *, agent_id: int) -> None:
        services.queue_drain()

    def on_tick(self) -> None:
        services.queue_drain()


class ManualPolicy(RoutingPolicy):
    """Nothing is assigned: agents take chats from the queue themselves (`take`)."""


def current_policy() -> RoutingPolicy:
    policy_class = import_string(settings.HELPDESK_ROUTING_POLICY)
    return policy_class()
