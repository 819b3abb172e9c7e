"""chat_assign: an agent takes a queued chat; exactly one agent gets it."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from chat import services
from chat.errors import ChatAlreadyAssigned, ChatClosed, ChatNotFound
from chat.models import Chat, ChatEvent, Message
from chat.services import Participant
from helpdesk.errors import Forbidden
from tests.chat.frames import assert_customer_safe
from tests.factories import AgentFactory, SupervisorFactory, UserFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db


def test_taking_a_queued_chat_makes_it_active_and_says_so() -> None:
    chat = start_chat()
    agent = AgentFactory(first_name="Bruno")
    before = timezone.now()

    services.chat_assign(chat_id=chat.pk, agent=agent, assigned_by=agent)

    chat.refresh_from_db()
    assert chat.status == Chat.Status.ACTIVE
    assert chat.agent == agent
    assert before <= chat.assigned_at <= timezone.now()
    joined = chat.messages.get(seq=chat.last_seq)
    assert (joined.seq, joined.kind, joined.body) == (3, "system", "Bruno joined the chat.")
    assert joined.author is None
    assert list(chat.messages.values_list("seq", flat=True)) == [1, 2, 3]


def test_the_assignment_is_on_the_timeline_with_who_did_it() -> None:
    chat = start_chat()
    agent, supervisor = AgentFactory(), SupervisorFactory()
    services.chat_assign(chat_id=chat.pk, agent=agent, assigned_by=supervisor)
    event = ChatEvent.objects.get(chat=chat, kind=ChatEvent.Kind.ASSIGNED)
    assert event.actor == supervisor
    assert event.data == {"agent": agent.pk}
    assert list(ChatEvent.objects.filter(chat=chat).values_list("kind", flat=True)) == [
        "queued",
        "assigned",
    ]


def test_an_agent_without_a_first_name_is_shown_by_username() -> None:
    chat = start_chat()
    agent = AgentFactory(username="agent-x", first_name="")
    services.chat_assign(chat_id=chat.pk, agent=agent)
    assert chat.messages.get(seq=3).body == "agent-x joined the chat."


def test_assignment_does_not_answer_the_customer() -> None:
    chat = start_chat()
    waiting_since = Chat.objects.get(pk=chat.pk).awaiting_reply_since
    services.chat_assign(chat_id=chat.pk, agent=AgentFactory())
    chat.refresh_from_db()
    assert chat.awaiting_reply_since == waiting_since
    assert chat.first_agent_response_at is None


def test_taking_a_chat_another_agent_holds_is_refused_and_changes_nothing() -> None:
    first, second = AgentFactory(), AgentFactory()
    chat = active_chat(agent=first)
    with pytest.raises(ChatAlreadyAssigned) as excinfo:
        services.chat_assign(chat_id=chat.pk, agent=second)
    assert excinfo.value.code == "already_assigned"
    chat.refresh_from_db()
    assert chat.agent == first
    assert chat.last_seq == 3 and chat.messages.count() == 3
    assert ChatEvent.objects.filter(chat=chat, kind="assigned").count() == 1


def test_taking_a_chat_one_already_holds_is_a_no_op(published, signals, committed) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    assigned_at = Chat.objects.get(pk=chat.pk).assigned_at

    with committed():
        again = services.chat_assign(chat_id=chat.pk, agent=agent)

    assert again.pk == chat.pk and again.agent_id == agent.pk
    chat.refresh_from_db()
    assert chat.assigned_at == assigned_at
    assert chat.last_seq == 3 and chat.messages.count() == 3
    assert ChatEvent.objects.filter(chat=chat, kind="assigned").count() == 1
    assert published.calls == [] and signals.sent == []


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(UserFactory, id="plain-user"),
        pytest.param(SupervisorFactory, id="supervisor-not-agent"),
        pytest.param(lambda: AgentFactory(is_active=False), id="inactive-agent"),
        pytest.param(AnonymousUser, id="anonymous"),
    ],
)
def test_only_active_agents_can_be_assigned(make_user) -> None:
    chat = start_chat()
    with pytest.raises(Forbidden) as excinfo:
        services.chat_assign(chat_id=chat.pk, agent=make_user())
    assert excinfo.value.code == "forbidden"
    chat.refresh_from_db()
    assert chat.status == Chat.Status.QUEUED and chat.agent is None
    assert chat.messages.count() == 2


def test_a_closed_chat_cannot_be_taken() -> None:
    chat = start_chat()
    services.chat_close(chat_id=chat.pk, by=Participant.customer())
    with pytest.raises(ChatClosed) as excinfo:
        services.chat_assign(chat_id=chat.pk, agent=AgentFactory())
    assert excinfo.value.code == "chat_closed"
    chat.refresh_from_db()
    assert chat.status == Chat.Status.CLOSED and chat.agent is None


def test_taking_a_chat_that_does_not_exist_is_chat_not_found() -> None:
    with pytest.raises(ChatNotFound) as excinfo:
        services.chat_assign(chat_id=999_999, agent=AgentFactory())
    assert excinfo.value.code == "chat_not_found"


# --- Publication and signals -----------------------------------------------------------------


def test_everyone_concerned_hears_of_it_after_commit(published, committed) -> None:
    chat = start_chat(email="ana@example.com")
    agent = AgentFactory(first_name="Bruno")

    with committed():
        services.chat_assign(chat_id=chat.pk, agent=agent)
        assert published.calls == []

    customer_group, agent_group = f"chat.{chat.pk}", f"agent.{agent.pk}"
    queue_groups = [f"queue.{chat.topic_id}", "queue.all"]
    watch_group = f"watch.{chat.pk}"
    (customer_frame,) = published.frames("chat", group=customer_group)
    assert_customer_safe(customer_frame, email="ana@example.com")
    assert customer_frame["status"] == "active"
    assert customer_frame["agent"] == {"name": "Bruno"}
    assert customer_frame["last_seq"] == 3

    # The chat was queued, so every console following its topic's queue hears it leave the
    # queue, and so do consoles watching it. The assignee's own group hears it too: a console
    # opened before the agent got this skill does not follow that queue. One frame, published
    # once to all of these groups.
    (staff_frame,) = published.frames("chat", group=f"queue.{chat.topic_id}")
    assert published.frames("chat", group=agent_group) == [staff_frame]
    assert staff_frame["status"] == "active"
    assert staff_frame["agent"] == {"id": agent.pk, "name": "Bruno"}
    assert staff_frame["customer"]["email"] == "ana@example.com"
    assert staff_frame["last_seq"] == 3
    assert staff_frame["transfer_count"] == 0
    assert staff_frame["transfer"] is None
    # The staff frame (it carries the customer's email) never goes to the customer's group.
    assert published.groups_of("chat") == [
        [customer_group],
        [*queue_groups, agent_group, watch_group],
    ]
    # The join message, then the chat: exactly these, nothing else.
    assert [(groups, frame["type"]) for groups, frame in published.calls] == [
        ([customer_group, agent_group, watch_group], "message"),
        ([customer_group], "chat"),
        ([*queue_groups, agent_group, watch_group], "chat"),
    ]


def test_the_join_message_is_delivered_live_so_clients_see_no_gap(published, committed) -> None:
    chat = start_chat()
    agent = AgentFactory(first_name="Bruno")
    with committed():
        services.chat_assign(chat_id=chat.pk, agent=agent)
    frames = published.frames("message")
    assert [(f["seq"], f["kind"], f["body"]) for f in frames] == [
        (3, "system", "Bruno joined the chat.")
    ]
    assert published.groups_of("message") == [
        [f"chat.{chat.pk}", f"agent.{agent.pk}", f"watch.{chat.pk}"]
    ]


def test_chat_assigned_fires_once_after_commit(signals, committed) -> None:
    chat = start_chat()
    agent = AgentFactory()
    with committed():
        services.chat_assign(chat_id=chat.pk, agent=agent)
        assert signals.sent == []
    assert signals.of("chat_assigned") == [{"chat_id": chat.pk, "agent_id": agent.pk}]
    assert "chat_queued" not in signals.names()


def test_a_refused_or_rolled_back_assignment_publishes_nothing(
    published, signals, committed
) -> None:
    chat = start_chat()
    holder = active_chat()
    # Made before: joining the Agents group schedules a console rescope of its own.
    latecomer, unlucky = AgentFactory(), AgentFactory()
    with committed() as callbacks:
        with pytest.raises(ChatAlreadyAssigned):
            services.chat_assign(chat_id=holder.pk, agent=latecomer)
        with pytest.raises(RuntimeError), transaction.atomic():
            services.chat_assign(chat_id=chat.pk, agent=unlucky)
            raise RuntimeError("boom")
    assert callbacks == [] and published.calls == [] and signals.sent == []
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.QUEUED
    assert not Message.objects.filter(chat=chat, seq=3).exists()
