"""Celery tasks of canned responses: thin, idempotent, ids only."""

from celery import shared_task

from cannedresponses import answerbot


@shared_task(name="cannedresponses.tasks.bot_answer")
def bot_answer(*, message_id: int) -> int | None:
    """The answer bot answers a customer's question (once per question, however often it
    runs). Returns the bot message's id, or None when the bot had nothing to say."""
    message = answerbot.bot_answer_question(message_id=message_id)
    return message.pk if message else None
