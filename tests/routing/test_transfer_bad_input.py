"""Hostile and mistaken transfer frames: each is answered with a clear error code and changes
nothing (no chat moved, no message, no timeline entry, no transfer row, nothing published).

The frames go through the handlers the console dispatches to (the consumer adds nothing but
the `error` frame, see test_transfer_frames.py); a customer's forged frames go over a real
socket."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from chat import services as chat_services
from chat.models import Chat
from chat.services import Participant
from helpdesk.errors import DomainError
from helpdesk.roles import SUPERVISORS_GROUP
from routing import transfer_handlers, transfers
from routing.models import AgentProfile, Transfer
from tests.chat.consumers.wsutil import Sockets, db, pong_next, round_trip
from tests.factories import TopicFactory, UserFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat, state

pytestmark = pytest.mark.django_db

HANDLERS = {
    "transfer_targets": transfer_handlers.transfer_targets_frame,
    "transfer": transfer_handlers.transfer_frame,
    "transfer_reply": transfer_handlers.transfer_reply_frame,
    "transfer_cancel": transfer_handlers.transfer_cancel_frame,
    "transfers": transfer_handlers.transfers_frame,
}


@pytest.fixture
def team() -> dict[str, Any]:
    returns = TopicFactory(name="Returns", slug="returns")
    billing = TopicFactory(name="Billing", slug="billing")
    alice = make_agent(topics=[returns], first_name="Alice")
    bruno = make_agent(topics=[returns, billing], first_name="Bruno")
    carla = make_agent(topics=[returns], first_name="Carla")
    chat = held_chat(alice, topic=returns)
    return {"alice": alice, "bruno": bruno, "carla": carla, "chat": chat, "returns": returns}


def send(user: Any, frame_type: str, *, chat: int | None = None, **data: Any) -> list[dict]:
    """What the console does with an agent's frame: the registered handler, one call."""
    return HANDLERS[frame_type](
        actor=Participant.agent(user), chat_id=chat, data={"type": frame_type, **data}
    )


def refused(code: str, user: Any, frame_type: str, **kwargs: Any) -> DomainError:
    before = state()
    with pytest.raises(DomainError) as error:
        send(user, frame_type, **kwargs)
    assert error.value.code == code, error.value.detail
    assert state() == before
    return error.value


# --- transfer: the shape of the frame ---------------------------------------------------------

MALFORMED_TARGETS = [
    None,
    [],
    "bruno",
    7,
    {},
    {"agent": "7"},
    {"agent": True},
    {"agent": 0},
    {"agent": -3},
    {"agent": 1.5},
    {"agent": None},
    {"agent": [7]},
    {"agent": 7, "topic": "billing"},
    {"senior": False},
    {"senior": "true"},
    {"senior": 1},
    {"senior": None},
    {"topic": 5},
    {"topic": ""},
    {"topic": ["billing"]},
    {"topic": "x" * 81},
    {"queue": "billing"},
    {"$where": "1"},
]


@pytest.mark.parametrize("to", MALFORMED_TARGETS, ids=lambda v: repr(v)[:30])
def test_a_malformed_target_is_an_invalid_frame(team, published, to) -> None:  # type: ignore[no-untyped-def]
    refused("invalid_frame", team["alice"], "transfer", chat=team["chat"].pk, to=to, note=NOTE)
    assert published.calls == []


def test_a_missing_target_is_an_invalid_frame(team) -> None:  # type: ignore[no-untyped-def]
    refused("invalid_frame", team["alice"], "transfer", chat=team["chat"].pk, note=NOTE)


def test_a_transfer_without_a_chat_is_an_invalid_frame(team) -> None:  # type: ignore[no-untyped-def]
    refused("invalid_frame", team["alice"], "transfer", to={"agent": team["bruno"].pk}, note=NOTE)
    refused("invalid_frame", team["alice"], "transfer_targets")


@pytest.mark.parametrize(
    ("note", "code"),
    [
        (None, "invalid_frame"),
        (5, "invalid_frame"),
        (["a note"], "invalid_frame"),
        ({"text": "a note"}, "invalid_frame"),
        ("", "note_required"),
        ("   \n\t ", "note_required"),
        ("x" * 1001, "note_too_long"),
        ("nul \x00 inside", "body_invalid"),
        ("lone \ud800 surrogate", "body_invalid"),
    ],
    ids=["null", "int", "list", "object", "empty", "blank", "1001", "nul", "surrogate"],
)
@pytest.mark.parametrize("to", ["agent", "senior", "topic"])
def test_a_bad_note_is_refused_whatever_the_target(team, note, code, to) -> None:  # type: ignore[no-untyped-def]
    AgentProfile.objects.filter(user=team["bruno"]).update(seniority="senior")
    target = {"agent": {"agent": team["bruno"].pk}, "senior": {"senior": True}}.get(
        to, {"topic": "billing"}
    )
    refused(code, team["alice"], "transfer", chat=team["chat"].pk, to=target, note=note)


def test_a_missing_note_is_an_invalid_frame(team) -> None:  # type: ignore[no-untyped-def]
    refused("invalid_frame", team["alice"], "transfer", chat=team["chat"].pk, to={"senior": True})


def test_a_note_of_exactly_1000_characters_is_accepted(team) -> None:  # type: ignore[no-untyped-def]
    (reply,) = send(
        team["alice"],
        "transfer",
        chat=team["chat"].pk,
        to={"agent": team["bruno"].pk},
        note="n" * 1000,
    )
    assert reply["status"] == "pending" and len(reply["note"]) == 1000


def test_an_html_note_is_stored_and_sent_as_plain_text(team, published, committed) -> None:  # type: ignore[no-untyped-def]
    html = '<img src=x onerror="alert(1)"><script>steal()</script> & <b>bold</b>'
    with committed():
        (reply,) = send(
            team["alice"],
            "transfer",
            chat=team["chat"].pk,
            to={"agent": team["bruno"].pk},
            note=html,
        )
    assert Transfer.objects.get(pk=reply["id"]).note == html
    (request,) = published.frames("transfer_request")
    # Not escaped, not stripped: the text itself. Clients insert it as text, never as HTML.
    assert request["note"] == reply["note"] == html


# --- transfer: who and what -------------------------------------------------------------------


def test_an_unknown_agent_is_agent_not_found(team) -> None:  # type: ignore[no-untyped-def]
    refused(
        "agent_not_found",
        team["alice"],
        "transfer",
        chat=team["chat"].pk,
        to={"agent": 987654},
        note=NOTE,
    )


def test_ids_beyond_64_bits_are_unknown_ids_not_crashes(team, pending) -> None:  # type: ignore[no-untyped-def]
    huge = 10**30
    free = held_chat(team["alice"], topic=team["returns"])  # `pending` holds the other one
    refused(
        "agent_not_found",
        team["alice"],
        "transfer",
        chat=free.pk,
        to={"agent": huge},
        note=NOTE,
    )
    refused("chat_not_found", team["alice"], "transfer_targets", chat=huge)
    refused("transfer_not_found", team["bruno"], "transfer_reply", transfer=huge, accept=True)
    refused("transfer_not_found", team["alice"], "transfer_cancel", transfer=huge)


def test_a_user_who_is_not_an_agent_is_not_found_either(team) -> None:  # type: ignore[no-untyped-def]
    customer_like = UserFactory()
    supervisor_only = UserFactory()
    supervisor_only.groups.add(Group.objects.get_or_create(name=SUPERVISORS_GROUP)[0])
    inactive = make_agent()
    inactive.is_active = False
    inactive.save()
    details = {
        refused(
            "agent_not_found",
            team["alice"],
            "transfer",
            chat=team["chat"].pk,
            to={"agent": user.pk},
            note=NOTE,
        ).detail
        for user in (customer_like, supervisor_only, inactive)
    }
    # The same words as for an id that does not exist: nothing tells staff from the rest.
    assert details == {"No such agent."}


@pytest.mark.parametrize(
    "absent", [{"status": "away"}, {"status": "offline"}, {"present": False}], ids=str
)
def test_an_agent_who_is_not_online_is_unavailable(team, absent) -> None:  # type: ignore[no-untyped-def]
    dora = make_agent(first_name="Dora", **absent)
    error = refused(
        "agent_unavailable",
        team["alice"],
        "transfer",
        chat=team["chat"].pk,
        to={"agent": dora.pk},
        note=NOTE,
    )
    assert error.detail == "Dora is not online right now."


def test_transferring_to_oneself_is_refused(team) -> None:  # type: ignore[no-untyped-def]
    refused(
        "transfer_to_self",
        team["alice"],
        "transfer",
        chat=team["chat"].pk,
        to={"agent": team["alice"].pk},
        note=NOTE,
    )


@pytest.mark.parametrize("to", ["agent", "senior", "topic"])
def test_a_closed_chat_cannot_be_transferred_or_escalated(team, to) -> None:  # type: ignore[no-untyped-def]
    AgentProfile.objects.filter(user=team["bruno"]).update(seniority="senior")
    chat_services.chat_close(chat_id=team["chat"].pk, by=Participant.agent(team["alice"]))
    target = {"agent": {"agent": team["bruno"].pk}, "senior": {"senior": True}}.get(
        to, {"topic": "billing"}
    )
    refused("chat_closed", team["alice"], "transfer", chat=team["chat"].pk, to=target, note=NOTE)
    refused("chat_closed", team["alice"], "transfer_targets", chat=team["chat"].pk)


def test_an_unknown_chat_is_chat_not_found(team) -> None:  # type: ignore[no-untyped-def]
    refused("chat_not_found", team["alice"], "transfer", chat=99999, to={"senior": True}, note=NOTE)
    refused("chat_not_found", team["alice"], "transfer_targets", chat=99999)


@pytest.mark.parametrize("to", ["agent", "senior", "topic"])
def test_someone_elses_chat_cannot_be_transferred(team, to) -> None:  # type: ignore[no-untyped-def]
    AgentProfile.objects.filter(user=team["bruno"]).update(seniority="senior")
    target = {"agent": {"agent": team["bruno"].pk}, "senior": {"senior": True}}.get(
        to, {"topic": "billing"}
    )
    error = refused(
        "forbidden", team["carla"], "transfer", chat=team["chat"].pk, to=target, note=NOTE
    )
    assert "Alice" in error.detail
    refused("forbidden", team["carla"], "transfer_targets", chat=team["chat"].pk)


def test_a_queued_chat_cannot_be_transferred(team) -> None:  # type: ignore[no-untyped-def]
    queued = start_chat(topic=TopicFactory())
    refused("forbidden", team["alice"], "transfer", chat=queued.pk, to={"senior": True}, note=NOTE)


@pytest.mark.parametrize("to", ["agent", "senior", "topic"])
def test_one_pending_transfer_per_chat(team, to) -> None:  # type: ignore[no-untyped-def]
    AgentProfile.objects.filter(user=team["carla"]).update(seniority="senior")
    send(team["alice"], "transfer", chat=team["chat"].pk, to={"agent": team["bruno"].pk}, note=NOTE)
    target = {"agent": {"agent": team["carla"].pk}, "senior": {"senior": True}}.get(
        to, {"topic": "billing"}
    )
    refused(
        "transfer_pending", team["alice"], "transfer", chat=team["chat"].pk, to=target, note=NOTE
    )


def test_the_database_holds_one_pending_transfer_per_chat(team) -> None:  # type: ignore[no-untyped-def]
    fields = {
        "chat": team["chat"],
        "kind": "agent",
        "from_agent": team["alice"],
        "requested_by": team["alice"],
        "note": NOTE,
        "expires_at": team["chat"].created_at,
    }
    Transfer.objects.create(to_agent=team["bruno"], **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(to_agent=team["carla"], **fields)


# --- transfer_reply and transfer_cancel ---------------------------------------------------------


@pytest.fixture
def pending(team) -> Transfer:  # type: ignore[no-untyped-def]
    (reply,) = send(
        team["alice"], "transfer", chat=team["chat"].pk, to={"agent": team["bruno"].pk}, note=NOTE
    )
    return Transfer.objects.get(pk=reply["id"])


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"accept": True},
        {"transfer": "1", "accept": True},
        {"transfer": True, "accept": True},
        {"transfer": 0, "accept": True},
        {"transfer": None, "accept": True},
        {"accept": "yes", "transfer": "ID"},
        {"accept": 1, "transfer": "ID"},
        {"accept": None, "transfer": "ID"},
        {"transfer": "ID"},
        {"transfer": "ID", "accept": False, "reason": 5},
        {"transfer": "ID", "accept": False, "reason": ["busy"]},
    ],
    ids=lambda f: repr(f)[:40],
)
def test_a_malformed_reply_is_an_invalid_frame(team, pending, fields) -> None:  # type: ignore[no-untyped-def]
    fields = {k: (pending.pk if v == "ID" else v) for k, v in fields.items()}
    refused("invalid_frame", team["bruno"], "transfer_reply", **fields)


@pytest.mark.parametrize(
    ("reason", "code"), [("x" * 201, "reason_too_long"), ("nul\x00", "reason_invalid")]
)
def test_a_bad_decline_reason_is_refused(team, pending, reason, code) -> None:  # type: ignore[no-untyped-def]
    refused(code, team["bruno"], "transfer_reply", transfer=pending.pk, accept=False, reason=reason)


def test_a_reason_of_200_characters_is_kept(team, pending) -> None:  # type: ignore[no-untyped-def]
    send(team["bruno"], "transfer_reply", transfer=pending.pk, accept=False, reason="r" * 200)
    pending.refresh_from_db()
    assert pending.reason == "r" * 200


@pytest.mark.parametrize("who", ["alice", "carla"])
@pytest.mark.parametrize("accept", [True, False])
def test_only_the_receiver_may_answer(team, pending, who, accept) -> None:  # type: ignore[no-untyped-def]
    error = refused(
        "transfer_not_found", team[who], "transfer_reply", transfer=pending.pk, accept=accept
    )
    assert error.detail == "No such transfer."


def test_an_unknown_transfer_or_a_wrong_chat_is_not_found(team, pending) -> None:  # type: ignore[no-untyped-def]
    refused("transfer_not_found", team["bruno"], "transfer_reply", transfer=99999, accept=True)
    other = held_chat(team["alice"], topic=team["returns"])
    refused(
        "transfer_not_found",
        team["bruno"],
        "transfer_reply",
        chat=other.pk,
        transfer=pending.pk,
        accept=True,
    )


def test_a_double_accept_is_answered_once(team, pending) -> None:  # type: ignore[no-untyped-def]
    (result,) = send(team["bruno"], "transfer_reply", transfer=pending.pk, accept=True)
    assert result["status"] == "accepted"

    refused(
        "transfer_not_pending", team["bruno"], "transfer_reply", transfer=pending.pk, accept=True
    )
    refused(
        "transfer_not_pending", team["bruno"], "transfer_reply", transfer=pending.pk, accept=False
    )
    refused("transfer_not_pending", team["alice"], "transfer_cancel", transfer=pending.pk)


@pytest.mark.parametrize("who", ["bruno", "carla"])
def test_only_the_sender_may_cancel(team, pending, who) -> None:  # type: ignore[no-untyped-def]
    refused("transfer_not_found", team[who], "transfer_cancel", transfer=pending.pk)


@pytest.mark.parametrize("value", [None, "1", True, 0, -1, [1]], ids=repr)
def test_a_malformed_cancel_is_an_invalid_frame(team, pending, value) -> None:  # type: ignore[no-untyped-def]
    refused("invalid_frame", team["alice"], "transfer_cancel", transfer=value)


def test_an_accept_over_capacity_tells_the_receiver_and_moves_nothing(team, pending) -> None:  # type: ignore[no-untyped-def]
    AgentProfile.objects.filter(user=team["bruno"]).update(max_chats=1)
    held_chat(team["bruno"], topic=team["returns"])

    with pytest.raises(DomainError) as error:
        send(team["bruno"], "transfer_reply", transfer=pending.pk, accept=True)

    assert error.value.code == "over_capacity"
    assert Chat.objects.get(pk=team["chat"].pk).agent_id == team["alice"].pk
    pending.refresh_from_db()
    assert pending.status == "declined"


# --- A customer forging console frames, over a real socket -----------------------------------


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    yield opened
    await opened.close_all()


@db
def customer_team() -> tuple[Any, Any, Transfer]:
    topic = TopicFactory()
    alice = make_agent(topics=[topic])
    bruno = make_agent(topics=[topic])
    chat = held_chat(alice, topic=topic)
    transfer = transfers.transfer_to_agent(
        chat_id=chat.pk, sender=alice, to_agent_id=bruno.pk, note=NOTE
    )
    return chat, bruno, transfer


@pytest.mark.django_db(transaction=True)
async def test_a_customer_forging_transfer_frames_gets_unknown_type(sockets) -> None:
    chat, bruno, transfer = await customer_team()
    comm, _ = await sockets.customer(chat)
    before = await db(state)()
    forged = [
        {"type": "transfer_targets"},
        {"type": "transfer_targets", "chat": chat.pk},
        {"type": "transfer", "to": {"agent": bruno.pk}, "note": "give me to Bruno"},
        {"type": "transfer", "chat": chat.pk, "to": {"senior": True}, "note": "escalate"},
        {"type": "transfer", "chat": chat.pk, "to": {"topic": chat.topic.slug}, "note": "x"},
        {"type": "transfer_reply", "transfer": transfer.pk, "accept": True},
        {"type": "transfer_reply", "transfer": transfer.pk, "accept": False, "reason": "no"},
        {"type": "transfer_cancel", "transfer": transfer.pk},
        {"type": "transfers"},
    ]
    for frame in forged:
        error = await round_trip(comm, frame)
        assert (error["type"], error["code"]) == ("error", "unknown_type"), (frame, error)

    await pong_next(comm)  # the socket stays open and usable
    assert await db(state)() == before
