"""Celery tasks of routing: thin, idempotent, no arguments (beat runs them, see settings)."""

from celery import shared_task

from routing import attention, services, transfers
from routing.policies import current_policy


@shared_task(name="routing.tasks.presence_sweep")
def presence_sweep() -> int:
    """Agents gone past the grace period become away; their chats go back to the queue."""
    return len(services.presence_sweep())


@shared_task(name="routing.tasks.queue_drain")
def queue_drain() -> None:
    """The policy's periodic safety net (AutomaticPolicy drains the queue; manual does not)."""
    current_policy().on_tick()


@shared_task(name="routing.tasks.abandoned_sweep")
def abandoned_sweep() -> int:
    """Queued chats whose customer left (HELPDESK_ABANDON_AFTER_SECONDS) are closed."""
    return len(services.abandoned_sweep())


@shared_task(name="routing.tasks.no_reply_sweep")
def no_reply_sweep() -> int:
    """Active chats left unanswered past their topic's reply timeout go to another agent."""
    return len(services.no_reply_sweep())


@shared_task(name="routing.tasks.red_flag_sweep")
def red_flag_sweep() -> int:
    """Open chats whose customer waited past the topic's red threshold are flagged to
    supervisors (once per wait)."""
    return len(attention.red_flag_sweep())


@shared_task(name="routing.tasks.transfer_expiry_sweep")
def transfer_expiry_sweep() -> int:
    """Transfer requests unanswered past HELPDESK_TRANSFER_TIMEOUT_SECONDS go back to their
    senders."""
    return len(transfers.transfer_expiry_sweep())
