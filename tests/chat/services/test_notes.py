"""Internal notes: the chat's agent (or a supervisor) adds private notes to a chat; they reach
staff consoles only, never the customer's group."""

import pytest

from chat import services
from chat.errors import NotYourChat
from chat.models import ChatNote, Message
from chat.services import Participant
from helpdesk.errors import DomainError
from tests.factories import AgentFactory, SupervisorFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db


def test_the_agent_adds_a_note_that_only_staff_hear_of(published, committed) -> None:
    agent = AgentFactory(first_name="Bruno")
    chat = active_chat(agent=agent)
    seq = chat.last_seq

    with committed():
        note = services.note_add(chat_id=chat.pk, author=agent, body="  VIP, order 4471.  ")

    assert (note.body, note.author) == ("VIP, order 4471.", agent)
    ((groups, frame),) = published.calls
    assert groups == [f"agent.{agent.pk}", f"watch.{chat.pk}"]
    assert frame == {
        "type": "note",
        "chat": chat.pk,
        "id": note.pk,
        "author": {"id": agent.pk, "name": "Bruno"},
        "body": "VIP, order 4471.",
        "created_at": note.created_at.isoformat(),
    }
    # Not a message: the conversation and its sequence numbers are untouched.
    chat.refresh_from_db()
    assert chat.last_seq == seq
    assert not Message.objects.filter(body__contains="4471").exists()


def test_a_supervisor_adds_a_note_to_a_colleagues_chat(published, committed) -> None:
    agent = AgentFactory()
    lead = SupervisorFactory()
    chat = active_chat(agent=agent)

    with committed():
        services.note_add(chat_id=chat.pk, author=lead, body="Offer a voucher.")

    ((groups, _frame),) = published.calls
    assert groups == [f"agent.{agent.pk}", f"agent.{lead.pk}", f"watch.{chat.pk}"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param("", "note_empty", id="empty"),
        pytest.param(" \n\t ", "note_empty", id="blank"),
        pytest.param("x" * 2001, "note_too_long", id="too-long"),
        pytest.param("a\x00b", "body_invalid", id="nul"),
        pytest.param("\ud800", "body_invalid", id="lone-surrogate"),
    ],
)
def test_bad_notes_are_refused_and_nothing_is_stored(body, code, published, committed) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    with committed(), pytest.raises(DomainError) as excinfo:
        services.note_add(chat_id=chat.pk, author=agent, body=body)
    assert excinfo.value.code == code
    assert not ChatNote.objects.exists() and published.calls == []


def test_a_note_of_2000_characters_is_kept_whole() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    assert len(services.note_add(chat_id=chat.pk, author=agent, body="n" * 2000).body) == 2000


def test_html_is_stored_as_text() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    note = services.note_add(chat_id=chat.pk, author=agent, body="<script>alert(1)</script>")
    assert note.body == "<script>alert(1)</script>"


def test_another_agent_cannot_add_notes_to_a_chat_that_is_not_theirs() -> None:
    chat = active_chat(agent=AgentFactory(first_name="Bruno"))
    with pytest.raises(NotYourChat) as excinfo:
        services.note_add(chat_id=chat.pk, author=AgentFactory(), body="Hi")
    assert "Bruno" in excinfo.value.detail
    assert not ChatNote.objects.exists()


def test_a_queued_chat_takes_no_notes() -> None:
    chat = start_chat()
    with pytest.raises(NotYourChat):
        services.note_add(chat_id=chat.pk, author=SupervisorFactory(), body="Hi")


def test_a_closed_chat_still_takes_its_agents_notes() -> None:
    """Wrap-up notes after the customer left are normal."""
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    services.chat_close(chat_id=chat.pk, by=Participant.customer())
    assert services.note_add(chat_id=chat.pk, author=agent, body="Refund sent.").pk
