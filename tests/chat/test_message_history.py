"""The message history a socket replays on `resume`: exactly what was missed, in order, batched."""

import pytest

from chat import selectors, services
from chat.errors import ChatNotFound
from chat.services import Participant
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db


def posted(chat, count: int) -> None:
    for n in range(count):
        services.message_post(
            chat_id=chat.pk, sender=Participant.customer(), body=f"m{n}", client_msg_id=f"c{n}"
        )


def test_resume_returns_exactly_the_messages_after_the_given_seq() -> None:
    chat = start_chat()
    posted(chat, 5)  # seqs 3..7
    frames, more = selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=4)
    assert [f["seq"] for f in frames] == [5, 6, 7]
    assert [f["body"] for f in frames] == ["m2", "m3", "m4"]
    assert more is False


def test_resume_from_zero_is_the_whole_history_and_from_the_end_is_nothing() -> None:
    chat = start_chat()
    frames, _ = selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=0)
    assert [f["seq"] for f in frames] == [1, 2]
    assert selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=2) == ([], False)
    assert selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=10**6) == ([], False)


def test_resume_beyond_any_integer_the_database_holds_is_nothing() -> None:
    chat = start_chat()
    assert selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=2**70) == ([], False)


def test_long_histories_come_in_batches(monkeypatch) -> None:
    monkeypatch.setattr(selectors, "RESUME_BATCH", 3)
    chat = start_chat()
    posted(chat, 5)  # 7 messages in all
    first, more = selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=0)
    assert ([f["seq"] for f in first], more) == ([1, 2, 3], True)
    second, more = selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=3)
    assert ([f["seq"] for f in second], more) == ([4, 5, 6], True)
    third, more = selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=6)
    assert ([f["seq"] for f in third], more) == ([7], False)


def test_a_history_of_exactly_one_batch_says_no_more(monkeypatch) -> None:
    monkeypatch.setattr(selectors, "RESUME_BATCH", 2)
    chat = start_chat()
    frames, more = selectors.message_frames_for_customer(chat_id=chat.pk, after_seq=0)
    assert len(frames) == 2 and more is False


def test_a_consoles_replay_costs_two_queries_whatever_its_length(
    django_assert_num_queries,
) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    for n in range(10):
        services.message_post(
            chat_id=chat.pk, sender=Participant.agent(agent), body=f"a{n}", client_msg_id=f"a{n}"
        )
    # A console computes who it is (the queues it follows, supervisor or not) when it opens.
    access = selectors.staff_access(user=agent)
    # The chat (topic, customer, agent and `transferred_by` joined in; who may read it is a
    # condition of the same query) and the messages with their authors.
    with django_assert_num_queries(2):
        frames, _ = selectors.message_frames_for_agent(
            chat_id=chat.pk, agent=agent, after_seq=0, access=access
        )
    assert len(frames) == 13
    assert {f["author"] for f in frames if f["kind"] == "agent"} == {agent.first_name}


def test_an_agent_may_read_their_chats_and_the_queue_but_not_anothers_chat() -> None:
    agent = AgentFactory()
    mine, queued, theirs = active_chat(agent=agent), start_chat(), active_chat()
    assert selectors.message_frames_for_agent(chat_id=mine.pk, agent=agent, after_seq=0)[0]
    assert selectors.message_frames_for_agent(chat_id=queued.pk, agent=agent, after_seq=0)[0]
    with pytest.raises(ChatNotFound):
        selectors.message_frames_for_agent(chat_id=theirs.pk, agent=agent, after_seq=0)


def test_an_agent_still_reads_their_own_closed_chat() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    services.chat_close(chat_id=chat.pk, by=Participant.agent(agent))
    frames, _ = selectors.message_frames_for_agent(chat_id=chat.pk, agent=agent, after_seq=0)
    assert frames[-1]["body"].startswith("Chat ended by")


def test_a_missing_chat_is_chat_not_found() -> None:
    with pytest.raises(ChatNotFound):
        selectors.message_frames_for_customer(chat_id=31_337, after_seq=0)
    with pytest.raises(ChatNotFound):
        selectors.message_frames_for_agent(chat_id=31_337, agent=AgentFactory(), after_seq=0)
