"""Reply tallies: message_post counts each agent reply once, per chat and author, so the
metrics never scan the messages table; tallies_rebuild recounts them from the messages."""

import pytest

from chat import services
from chat.models import Message, ReplyTally
from chat.tallies import tallies_rebuild
from tests.factories import AgentFactory, MessageFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db


def _tallies(chat_id: int) -> dict[int, tuple[int, int, int]]:
    return {
        row.author_id: (row.replies, row.templated_replies, row.tone_warned_replies)
        for row in ReplyTally.objects.filter(chat_id=chat_id)
    }


def _say(chat_id: int, agent, body: str, **kwargs) -> services.PostResult:  # type: ignore[no-untyped-def]
    return services.message_post(
        chat_id=chat_id, sender=services.Participant.agent(agent), body=body, **kwargs
    )


def test_each_agent_reply_is_counted_with_how_it_was_written() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    _say(chat.pk, agent, "Hello!", origin=Message.Origin.GREETING)
    _say(chat.pk, agent, "Let me check.", origin=Message.Origin.HOLD)
    _say(chat.pk, agent, "Our returns policy…", origin=Message.Origin.CANNED)
    _say(chat.pk, agent, "Found it, damn printer", tone_overrides=["damn"])
    _say(chat.pk, agent, "Anything else?")

    assert _tallies(chat.pk) == {agent.pk: (5, 3, 1)}


def test_customer_messages_are_not_replies() -> None:
    chat = active_chat()
    services.message_post(chat_id=chat.pk, sender=services.Participant.customer(), body="Hi there")

    assert _tallies(chat.pk) == {}


def test_a_resent_reply_is_counted_once() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    first = _say(chat.pk, agent, "On its way", client_msg_id="c-1")
    again = _say(chat.pk, agent, "On its way", client_msg_id="c-1")

    assert (first.created, again.created) == (True, False)
    assert _tallies(chat.pk) == {agent.pk: (1, 0, 0)}


def test_replies_after_a_hand_over_count_for_whoever_wrote_them() -> None:
    first, second = AgentFactory(), AgentFactory()
    chat = active_chat(agent=first)
    _say(chat.pk, first, "Let me pass you to billing.", origin=Message.Origin.CANNED)
    services.chat_hand_over(
        chat_id=chat.pk, from_agent=first, to_agent=second, note="Refund over 100 EUR"
    )
    _say(chat.pk, second, "Hi, billing here.")
    _say(chat.pk, second, "Refund done.")

    assert _tallies(chat.pk) == {first.pk: (1, 1, 0), second.pk: (2, 0, 0)}


def test_rebuild_recounts_what_the_replies_counted() -> None:
    agent, other = AgentFactory(), AgentFactory()
    chat = active_chat(agent=agent)
    _say(chat.pk, agent, "Hello!", origin=Message.Origin.GREETING)
    _say(chat.pk, agent, "Sorry, dammit", tone_overrides=["dammit"])
    # Stored without message_post (a bulk import): not counted until a rebuild.
    MessageFactory(chat=chat, kind=Message.Kind.AGENT, author=other, seq=90)
    counted = _tallies(chat.pk)

    written = tallies_rebuild(chat_ids=[chat.pk])

    assert counted == {agent.pk: (2, 1, 1)}
    assert written == 2
    assert _tallies(chat.pk) == {agent.pk: (2, 1, 1), other.pk: (1, 0, 0)}


def test_rebuild_leaves_other_chats_alone() -> None:
    agent = AgentFactory()
    kept, rebuilt = active_chat(agent=agent), active_chat(agent=agent)
    _say(kept.pk, agent, "One")
    _say(rebuilt.pk, agent, "Two")
    ReplyTally.objects.filter(chat_id=kept.pk).update(replies=7)

    tallies_rebuild(chat_ids=[rebuilt.pk])

    assert _tallies(kept.pk) == {agent.pk: (7, 0, 0)}
    assert _tallies(rebuilt.pk) == {agent.pk: (1, 0, 0)}
