"""Celery tasks of routing: thin, idempotent, no arguments (beat runs them, see settings)."""

from celery import shared_task

from routing import services
from routing.policies import current_policy


@shared_task(name="routing.tasks.presence_sweep")
def presence_sweep() -> int:
    """Agents gone past the grace period become away; their chats go back to the queue."""
    return len(services.presence_sweep())


@shared_task(name="routing.tasks.queue_drain")
def queue_drain() -> None:
    """The policy's periodic safety net (AutomaticPolicy drains the queue; manual does not)."""
    current_policy().on_tick()
