"""A transfer to a named colleague is a request: the sender keeps the chat (and keeps writing)
until the colleague accepts; declined, cancelled or ended, it stays with the sender, who is told
why. Accepted, the colleague has the whole history and the note; the customer is told and the
chat's transfer count grows (docs/routing.md, "Transfers and escalation")."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.errors import ChatClosed, NotYourChat
from chat.models import Chat, ChatEvent, Message
from chat.services import Participant
from helpdesk.roles import SUPERVISORS_GROUP
from routing import transfers
from routing.errors import AgentAtCapacity, TransferNotPending
from routing.models import Transfer
from tests.factories import TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():  # type: ignore[no-untyped-def]
    return TopicFactory(name="Returns", slug="returns")


@pytest.fixture
def alice(topic):  # type: ignore[no-untyped-def]
    return make_agent(topics=[topic], first_name="Alice")


@pytest.fixture
def bruno():  # type: ignore[no-untyped-def]
    # A colleague of another team: a transfer may bring any topic.
    return make_agent(topics=[TopicFactory(name="Billing", slug="billing")], first_name="Bruno")


@pytest.fixture
def chat(alice, topic) -> Chat:  # type: ignore[no-untyped-def]
    return held_chat(alice, topic=topic)


def ask(chat: Chat, sender, receiver, note: str = NOTE) -> Transfer:  # type: ignore[no-untyped-def]
    return transfers.transfer_to_agent(
        chat_id=chat.pk, sender=sender, to_agent_id=receiver.pk, note=note
    )


def test_the_request_reaches_the_colleague_and_the_sender_keeps_the_chat(
    chat, alice, bruno, published, committed, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_TRANSFER_TIMEOUT_SECONDS = 45
    with committed():
        transfer = ask(chat, alice, bruno)

    transfer.refresh_from_db()
    assert (transfer.status, transfer.kind, transfer.note) == ("pending", "agent", NOTE)
    assert (transfer.from_agent, transfer.requested_by, transfer.to_agent) == (alice, alice, bruno)
    assert transfer.expires_at == transfer.created_at + timedelta(seconds=45)
    # Nothing moved yet: the chat is still Alice's, uncounted, and she can keep writing.
    held = reload(chat)
    assert (held.agent, held.transfer_count, held.transferred_at) == (alice, 0, None)
    chat_services.message_post(
        chat_id=chat.pk, sender=Participant.agent(alice), body="One moment, Ana."
    )

    (request,) = published.frames("transfer_request")
    assert published.groups_of("transfer_request") == [[f"agent.{bruno.pk}"]]
    assert request["id"] == transfer.pk
    assert request["from"] == {"id": alice.pk, "name": "Alice"}
    assert (request["kind"], request["note"]) == ("agent", NOTE)
    assert request["expires_at"] == transfer.expires_at.isoformat()
    # The staff chat frame: who the customer is, the topic, the last thing they wrote.
    assert request["chat"]["type"] == "chat"
    assert request["chat"]["id"] == chat.pk
    assert request["chat"]["customer"]["name"] == "Ana Lima"
    assert request["chat"]["topic"]["slug"] == "returns"
    assert request["chat"]["preview"] == "Where is my parcel?"
    (sent,) = published.frames("transfer")
    assert published.groups_of("transfer") == [[f"agent.{alice.pk}"]]
    assert (sent["id"], sent["chat"], sent["status"]) == (transfer.pk, chat.pk, "pending")
    assert sent["to_agent"] == {"id": bruno.pk, "name": "Bruno"}
    # The note is internal: nothing of it reaches the customer's group.
    assert not published.frames(group=f"chat.{chat.pk}")


def test_accepting_hands_the_chat_over_with_its_history_and_the_note(
    chat, alice, bruno, published, committed
) -> None:  # type: ignore[no-untyped-def]
    transfer = ask(chat, alice, bruno)

    with committed():
        outcome = transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)

    assert outcome.error is None
    transfer.refresh_from_db()
    assert transfer.status == "accepted" and transfer.decided_at is not None
    moved = reload(chat)
    assert (moved.status, moved.agent, moved.transfer_count) == ("active", bruno, 1)
    assert (moved.transfer_note, moved.transferred_by) == (NOTE, alice)
    event = ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.TRANSFERRED).get()
    # The note stays on the timeline: the summary panel lists every transfer with its note.
    assert event.data == {
        "kind": "agent",
        "previous_agent": alice.pk,
        "agent": bruno.pk,
        "note": NOTE,
    }

    # The customer is told, and never has to repeat themselves: Bruno reads everything.
    told = Message.objects.filter(chat=chat, kind="system").order_by("-seq").first()
    assert told.body == "Alice passed your chat to Bruno, who can see the whole conversation."
    frames, more = chat_selectors.message_frames_for_agent(
        chat_id=chat.pk, agent=bruno, after_seq=0
    )
    bodies = [frame["body"] for frame in frames]
    assert not more
    assert "Where is my parcel?" in bodies and "Hello Ana, let me look into it." in bodies
    assert bodies[-1] == told.body

    # Bruno's console gets the chat with the note to read first; Alice's learns the result.
    staff = [f for f in published.frames("chat", group=f"agent.{bruno.pk}") if f["id"] == chat.pk]
    assert staff[-1]["agent"]["id"] == bruno.pk
    assert staff[-1]["transfer_count"] == 1
    assert staff[-1]["transfer"]["note"] == NOTE
    assert staff[-1]["transfer"]["by"] == {"id": alice.pk, "name": "Alice"}
    (result,) = published.frames("transfer_result", group=f"agent.{alice.pk}")
    assert result == {
        "type": "transfer_result",
        "id": transfer.pk,
        "chat": chat.pk,
        "status": "accepted",
        "reason": None,
        "by": {"id": bruno.pk, "name": "Bruno"},
    }
    # Alice may read it still, but no longer write.
    with pytest.raises(NotYourChat):
        chat_services.message_post(chat_id=chat.pk, sender=Participant.agent(alice), body="Hi?")


def test_declining_leaves_the_chat_with_the_sender_and_tells_them_why(
    chat, alice, bruno, published, committed
) -> None:  # type: ignore[no-untyped-def]
    transfer = ask(chat, alice, bruno)
    seq = reload(chat).last_seq

    with committed():
        outcome = transfers.transfer_reply(
            transfer_id=transfer.pk, agent=bruno, accept=False, reason="  Off to lunch, sorry. "
        )

    assert outcome.error is None
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reason) == ("declined", "Off to lunch, sorry.")
    kept = reload(chat)
    assert (kept.agent, kept.transfer_count, kept.last_seq) == (alice, 0, seq)
    (result,) = published.frames("transfer_result", group=f"agent.{alice.pk}")
    assert (result["status"], result["reason"]) == ("declined", "Off to lunch, sorry.")
    assert result["by"] == {"id": bruno.pk, "name": "Bruno"}
    # Bruno's other consoles drop the request too.
    assert published.frames("transfer_result", group=f"agent.{bruno.pk}") == [result]
    assert not published.frames(group=f"chat.{chat.pk}")


def test_a_decline_needs_no_reason(chat, alice, bruno) -> None:  # type: ignore[no-untyped-def]
    transfer = ask(chat, alice, bruno)
    transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=False)
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reason) == ("declined", "")


def test_the_sender_can_cancel_a_pending_request(chat, alice, bruno, published, committed) -> None:  # type: ignore[no-untyped-def]
    transfer = ask(chat, alice, bruno)

    with committed():
        transfers.transfer_cancel(transfer_id=transfer.pk, agent=alice)

    transfer.refresh_from_db()
    assert transfer.status == "cancelled"
    assert published.frames("transfer_cancelled", group=f"agent.{bruno.pk}") == [
        {
            "type": "transfer_cancelled",
            "id": transfer.pk,
            "chat": chat.pk,
            "status": "cancelled",
            "reason": None,
        }
    ]
    (result,) = published.frames("transfer_result", group=f"agent.{alice.pk}")
    assert (result["status"], result["by"]["id"]) == ("cancelled", alice.pk)
    # Too late for Bruno now; and a new request may be made.
    with pytest.raises(TransferNotPending):
        transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)
    assert reload(chat).agent == alice
    assert ask(chat, alice, bruno).status == "pending"


def test_a_colleague_at_their_limit_cannot_accept_and_the_sender_is_told(
    chat, alice, published, committed
) -> None:  # type: ignore[no-untyped-def]
    full = make_agent(first_name="Carla", max_chats=1)
    held_chat(full, topic=TopicFactory())
    transfer = ask(chat, alice, full)

    with committed():
        outcome = transfers.transfer_reply(transfer_id=transfer.pk, agent=full, accept=True)

    assert isinstance(outcome.error, AgentAtCapacity)
    assert outcome.error.code == "over_capacity"
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reason) == ("declined", "Carla has no room for another chat.")
    kept = reload(chat)
    assert (kept.agent, kept.transfer_count) == (alice, 0)
    (result,) = published.frames("transfer_result", group=f"agent.{alice.pk}")
    assert (result["status"], result["reason"]) == (
        "declined",
        "Carla has no room for another chat.",
    )


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (
            lambda chat: chat_services.chat_close(chat_id=chat.pk, by=Participant.customer()),
            "The chat has ended.",
        ),
        (
            lambda chat: chat_services.chat_requeue(chat_id=chat.pk, reason="agent_left"),
            "The chat went back to the queue.",
        ),
    ],
    ids=["closed", "requeued"],
)
def test_a_request_ends_when_its_chat_closes_or_goes_back_to_the_queue(
    chat, alice, bruno, published, committed, end, reason
) -> None:  # type: ignore[no-untyped-def]
    transfer = ask(chat, alice, bruno)

    with committed():
        end(chat)

    transfer.refresh_from_db()
    assert (transfer.status, transfer.reason) == ("cancelled", reason)
    (cancelled,) = published.frames("transfer_cancelled", group=f"agent.{bruno.pk}")
    assert (cancelled["id"], cancelled["reason"]) == (transfer.pk, reason)
    (result,) = published.frames("transfer_result", group=f"agent.{alice.pk}")
    assert (result["status"], result["reason"], result["by"]) == ("cancelled", reason, None)


def test_accepting_a_chat_that_ended_meanwhile_is_refused_and_the_request_closed(
    chat, alice, bruno, published
) -> None:  # type: ignore[no-untyped-def]
    transfer = ask(chat, alice, bruno)
    # Closed without its signals running (as if they had not arrived yet).
    chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())

    outcome = transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)

    assert isinstance(outcome.error, ChatClosed)
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reason) == ("cancelled", "The chat has ended.")
    assert reload(chat).agent == alice


def test_a_supervisor_may_transfer_a_colleagues_chat(
    chat, alice, bruno, published, committed
) -> None:  # type: ignore[no-untyped-def]
    lead = make_agent(first_name="Lena")
    lead.groups.add(Group.objects.get_or_create(name=SUPERVISORS_GROUP)[0])

    with committed():
        transfer = ask(chat, lead, bruno)
        transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)

    transfer.refresh_from_db()
    assert (transfer.from_agent, transfer.requested_by, transfer.status) == (
        alice,
        lead,
        "accepted",
    )
    assert reload(chat).agent == bruno
    # Both the supervisor and the agent whose chat it was learn the outcome.
    assert published.groups_of("transfer_result")[0][:2] == [
        f"agent.{lead.pk}",
        f"agent.{alice.pk}",
    ]


def test_the_senders_freed_slot_takes_the_next_chat_of_the_queue(topic, bruno, committed) -> None:  # type: ignore[no-untyped-def]
    alice = make_agent(topics=[topic], first_name="Alice", max_chats=1)
    with committed():
        chat = held_chat(alice, topic=topic)
        waiting = start_chat(topic=topic, name="Eva Rocha")
    assert reload(waiting).status == "queued"
    transfer = ask(chat, alice, bruno)

    with committed():
        transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)

    assert (reload(waiting).status, reload(waiting).agent) == ("active", alice)


def test_every_transfer_is_counted_on_the_chat(chat, alice, bruno) -> None:  # type: ignore[no-untyped-def]
    first = ask(chat, alice, bruno)
    transfers.transfer_reply(transfer_id=first.pk, agent=bruno, accept=True)
    back = ask(chat, bruno, alice, note="Back to you: Ana asked for Alice.")
    transfers.transfer_reply(transfer_id=back.pk, agent=alice, accept=True)

    moved = reload(chat)
    assert (moved.agent, moved.transfer_count) == (alice, 2)
    assert moved.transfer_note == "Back to you: Ana asked for Alice."
    assert list(Transfer.objects.filter(chat=chat).values_list("status", flat=True)) == [
        "accepted",
        "accepted",
    ]
