"""Signal receivers: cache invalidation, and the automatic greeting on assignment (which
calls a service: no domain logic lives in signals)."""

import logging
from typing import Any

from django.db import transaction

from cannedresponses import services, tone
from chat.models import Message

logger = logging.getLogger(__name__)


def on_tone_rule_changed(sender: Any, **kwargs: Any) -> None:
    # After commit: a process that rebuilt its pattern before the commit would otherwise
    # cache the old rules under the new generation.
    transaction.on_commit(tone.invalidate)


def on_chat_assigned(sender: Any, *, chat_id: int, agent_id: int, **kwargs: Any) -> None:
    """The automatic greeting (after commit of the assignment). A failure is logged and never
    reaches the assignment, which is committed already."""
    try:
        services.greeting_post(chat_id=chat_id, agent_id=agent_id)
    except Exception:
        logger.exception("could not post the greeting of chat %s", chat_id)


def on_message_posted(
    sender: Any,
    *,
    chat_id: int,
    message_id: int,
    kind: str = "",
    queued: bool = True,
    **kwargs: Any,
) -> None:
    """A customer question in a queued chat may get an automated answer: queued as a Celery
    task, never on the way of the assignment. A failure is logged: the message is stored."""
    from cannedresponses import answerbot

    if not queued or (kind and kind != Message.Kind.CUSTOMER):
        # Only customers' questions while queued: saves a query on every other message.
        return

    try:
        answerbot.bot_answer_later(message_id=message_id)
    except Exception:
        logger.exception(
            "the answer bot could not look at message %s of chat %s", message_id, chat_id
        )
