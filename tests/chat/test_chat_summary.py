"""The summary a console shows beside a chat: waits, first and last questions, unanswered
count, canned share, notes, transfers, and the customer's history, in a fixed number of
queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import selectors, services
from chat.errors import ChatNotFound
from chat.models import Chat, Message
from chat.services import Participant
from tests.factories import AgentFactory, SupervisorFactory, TicketFactory, TopicFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db


def say(chat, who, body, **extra):  # type: ignore[no-untyped-def]
    return services.message_post(chat_id=chat.pk, sender=who, body=body, **extra).message


def at(message: Message, when) -> None:  # type: ignore[no-untyped-def]
    Message.objects.filter(pk=message.pk).update(created_at=when)


def test_the_summary_tells_the_story_of_the_chat() -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent, name="Ana Lima", message="Where is my parcel?")
    me = Participant.agent(agent)
    say(chat, me, "Checking.", origin="canned")
    say(chat, Participant.customer(), "It was due Monday.")
    say(chat, Participant.customer(), "Hello?")
    services.note_add(chat_id=chat.pk, author=agent, body="Courier lost it.")

    summary = selectors.chat_summary_frame(chat_id=chat.pk, agent=agent)

    assert summary["type"] == "summary" and summary["chat"] == chat.pk
    assert summary["customer"] == {
        "name": "Ana Lima",
        "email": "ana@example.com",
        "verified": False,
        "external_id": None,
    }
    assert summary["agent"] == {"id": agent.pk, "name": "Bruno"}
    assert summary["first_question"]["body"] == "Where is my parcel?"
    assert summary["last_customer_message"]["body"] == "Hello?"
    assert summary["unanswered_count"] == 2
    assert (summary["agent_messages"], summary["canned_messages"]) == (1, 1)
    assert [n["body"] for n in summary["notes"]] == ["Courier lost it."]
    assert summary["awaiting_reply_since"] is not None


def test_the_total_wait_adds_every_wait_for_an_answer() -> None:
    agent = AgentFactory()
    start = timezone.now() - timedelta(minutes=30)
    chat = active_chat(agent=agent)
    Chat.objects.filter(pk=chat.pk).update(created_at=start)
    me = Participant.agent(agent)
    # Waited 60 s for the first answer, then 30 s after a follow-up, and is answered now.
    at(say(chat, me, "Hi!"), start + timedelta(seconds=60))
    at(say(chat, Participant.customer(), "Any news?"), start + timedelta(seconds=120))
    at(say(chat, Participant.customer(), "Hello?"), start + timedelta(seconds=130))
    at(say(chat, me, "Yes: it ships today."), start + timedelta(seconds=150))
    Message.objects.filter(chat=chat, kind="customer", body="Where is my parcel?").update(
        created_at=start + timedelta(seconds=5)
    )

    summary = selectors.chat_summary_frame(chat_id=chat.pk, agent=agent)

    assert summary["waited_seconds"] == 60 + 30
    assert summary["unanswered_count"] == 0
    assert summary["awaiting_reply_since"] is None


def test_transfers_are_listed_with_their_notes() -> None:
    alice, bruno = AgentFactory(first_name="Alice"), AgentFactory(first_name="Bruno")
    chat = active_chat(agent=alice)
    services.chat_hand_over(
        chat_id=chat.pk, from_agent=alice, to_agent=bruno, note="Wants size 40."
    )
    billing = TopicFactory(name="Billing", slug="billing")
    services.chat_requeue(
        chat_id=chat.pk, reason="transfer", topic=billing, note="Refund question.", by=bruno
    )

    summary = selectors.chat_summary_frame(chat_id=chat.pk, agent=SupervisorFactory())

    assert [(t["kind"], t["by"], t["to"], t["note"]) for t in summary["transfers"]] == [
        ("agent", "Alice", "Bruno", "Wants size 40."),
        ("topic", "Bruno", "Billing", "Refund question."),
    ]


def test_the_history_lists_earlier_chats_and_tickets_of_the_same_email() -> None:
    agent = AgentFactory()
    earlier = start_chat(email="ANA@example.com")
    services.chat_close(chat_id=earlier.pk, by=Participant.customer())
    start_chat(email="someone.else@example.com")
    ticket = TicketFactory(email="ana@example.com")
    TicketFactory(email="other@example.com")
    chat = active_chat(agent=agent, email="ana@example.com")

    history = selectors.chat_summary_frame(chat_id=chat.pk, agent=agent)["history"]

    assert [(c["id"], c["status"], c["url"]) for c in history["chats"]] == [
        (earlier.pk, "closed", f"/console/chats/{earlier.pk}/")
    ]
    assert [t["reference"] for t in history["tickets"]] == [ticket.reference]


def test_a_customer_without_email_has_no_history() -> None:
    agent = AgentFactory()
    start_chat(email="")
    chat = active_chat(agent=agent, email="")
    history = selectors.chat_summary_frame(chat_id=chat.pk, agent=agent)["history"]
    assert history == {"chats": [], "tickets": []}


def test_the_summary_costs_the_same_queries_whatever_the_chat_and_history(
    django_assert_num_queries,
) -> None:
    agent = AgentFactory()
    access = selectors.staff_access(user=agent)

    def build(messages: int, earlier: int) -> Chat:
        for _ in range(earlier):
            start_chat(email="ana@example.com")
            TicketFactory(email="ana@example.com")
        chat = active_chat(agent=agent, email="ana@example.com")
        for n in range(messages):
            say(chat, Participant.customer(), f"m{n}")
            services.note_add(chat_id=chat.pk, author=agent, body=f"n{n}")
        return chat

    small, large = build(1, 1), build(20, 8)
    # The chat, its messages, first and last questions, notes, transfers, earlier chats,
    # tickets (and the receivers' names once there are transfers).
    with django_assert_num_queries(8):
        selectors.chat_summary_frame(chat_id=small.pk, agent=agent, access=access)
    with django_assert_num_queries(8):
        selectors.chat_summary_frame(chat_id=large.pk, agent=agent, access=access)


def test_a_chat_the_agent_may_not_read_has_no_summary() -> None:
    chat = active_chat()
    with pytest.raises(ChatNotFound):
        selectors.chat_summary_frame(chat_id=chat.pk, agent=AgentFactory())
