"""chat.services.bot_message_post: an automated message (the answer bot's) is stored and
published like any message, carries its data on the wire, and answers nothing: the customer's
wait for a person, the summary's unanswered count and the metrics' tallies are untouched."""

import pytest

from chat import events, selectors, services
from chat.errors import BodyEmpty, ChatClosed
from chat.models import Chat, Message, ReplyTally
from chat.services import Participant
from tests.factories import ConsoleSupervisorFactory
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db

DATA = {"question": "Where is my parcel?", "articles": [{"id": 1, "title": "Tracking"}]}


def test_stored_published_and_answering_nothing(
    published, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    chat = start_chat()
    waiting_since = chat.awaiting_reply_since
    with django_capture_on_commit_callbacks(execute=True):
        message = services.bot_message_post(chat_id=chat.pk, body="Try this.", data=DATA)

    assert (message.kind, message.seq, message.author_id, message.data) == ("bot", 3, None, DATA)
    chat.refresh_from_db()
    assert chat.last_seq == 3
    assert chat.awaiting_reply_since == waiting_since
    assert chat.first_agent_response_at is None
    assert not ReplyTally.objects.exists()
    [frame] = [f for f in published.frames("message") if f["seq"] == 3]
    assert frame["kind"] == "bot" and frame["bot"] == DATA and frame["author"] is None
    groups = published.groups_of("message")[-1]
    assert events.customer_group(chat.pk) in groups
    assert events.queue_group(chat.topic_id) in groups


def test_the_summary_counts_only_the_customers_messages_as_unanswered() -> None:
    chat = start_chat()
    services.bot_message_post(chat_id=chat.pk, body="Try this.", data=DATA)
    services.bot_message_post(chat_id=chat.pk, body="Or this.", data=DATA)
    summary = selectors.chat_summary_frame(chat_id=chat.pk, agent=ConsoleSupervisorFactory())
    assert summary["unanswered_count"] == 1
    assert summary["agent_messages"] == 0


def test_a_closed_chat_gets_nothing() -> None:
    chat = start_chat()
    services.chat_close(chat_id=chat.pk, by=Participant.customer())
    with pytest.raises(ChatClosed):
        services.bot_message_post(chat_id=chat.pk, body="Too late.")
    assert not Message.objects.filter(chat=chat, kind=Message.Kind.BOT).exists()


def test_the_message_rules_hold_and_data_must_be_json() -> None:
    chat = start_chat()
    with pytest.raises(BodyEmpty):
        services.bot_message_post(chat_id=chat.pk, body="   ")
    with pytest.raises(TypeError):
        services.bot_message_post(chat_id=chat.pk, body="Hi", data={"when": object()})
    assert Chat.objects.get(pk=chat.pk).last_seq == 2
