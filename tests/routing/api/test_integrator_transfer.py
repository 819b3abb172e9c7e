"""POST /api/v1/chats/<id>/transfer/: the console's transfer and escalation, through the same
services, with the same rules and codes."""

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from chat import services as chat_services
from routing.models import AgentProfile, Transfer
from tests.api_support import assert_error, client_for, fresh_cache, post_json
from tests.factories import AgentFactory, SupervisorFactory, TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat, reload, state

pytestmark = pytest.mark.django_db


def url(chat: Any) -> str:
    return f"/api/v1/chats/{getattr(chat, 'pk', chat)}/transfer/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


@pytest.fixture
def topic() -> Any:
    return TopicFactory(slug="returns", name="Returns")


@pytest.fixture
def alice(topic: Any) -> Any:
    return make_agent(topics=[topic], first_name="Alice", last_name="Silva")


@pytest.fixture
def chat(alice: Any, topic: Any) -> Any:
    return held_chat(alice, topic=topic)


@pytest.fixture
def api(alice: Any) -> Any:
    return client_for(alice, scope="write")


def test_to_a_colleague_is_a_pending_request(api: Any, chat: Any, alice: Any, topic: Any) -> None:
    bruno = make_agent(topics=[topic], first_name="Bruno", last_name="Costa")
    response = api.post(url(chat), {"to": {"agent": bruno.pk}, "note": NOTE})
    assert response.status_code == 201, response.content
    data = response.json()
    transfer = Transfer.objects.get()
    assert data["id"] == transfer.pk
    assert (data["chat"], data["kind"], data["status"]) == (chat.pk, "agent", "pending")
    assert data["from_agent"] == {"id": alice.pk, "name": "Alice Silva"}
    assert data["requested_by"] == data["from_agent"]
    assert data["to_agent"] == {"id": bruno.pk, "name": "Bruno Costa"}
    assert data["to_topic"] is None
    assert data["note"] == NOTE
    assert data["expires_at"] is not None and data["decided_at"] is None
    # The chat stays Alice's until Bruno answers in his console.
    assert reload(chat).agent == alice


def test_to_a_topic_is_done_at_once(api: Any, chat: Any, topic: Any) -> None:
    billing = TopicFactory(slug="billing", name="Billing")
    make_agent(topics=[billing])
    data = api.post(url(chat), {"to": {"topic": "billing"}, "note": NOTE}).json()
    assert (data["kind"], data["status"]) == ("topic", "completed")
    assert data["to_topic"] == {"id": billing.pk, "slug": "billing", "name": "Billing"}
    moved = reload(chat)
    assert (moved.status, moved.topic, moved.agent) == ("queued", billing, None)
    assert moved.transfer_note == NOTE


def test_escalation_asks_a_senior(api: Any, chat: Any, topic: Any) -> None:
    senior = make_agent(topics=[topic])
    AgentProfile.objects.filter(user=senior).update(seniority="senior")
    data = api.post(url(chat), {"to": {"senior": True}, "note": NOTE}).json()
    assert (data["kind"], data["status"], data["to_agent"]["id"]) == (
        "senior",
        "pending",
        senior.pk,
    )


def test_a_supervisor_transfers_a_colleagues_chat(chat: Any, topic: Any) -> None:
    lead = SupervisorFactory()
    bruno = make_agent(topics=[topic])
    response = client_for(lead, scope="write").post(
        url(chat), {"to": {"agent": bruno.pk}, "note": NOTE}
    )
    assert response.status_code == 201
    assert response.json()["requested_by"]["id"] == lead.pk


# --- The console's refusals, with its codes, and nothing changed ----------------------------------


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        pytest.param({"to": {"senior": True}, "note": ""}, 400, "note_required", id="no-note"),
        pytest.param({"to": {"senior": True}, "note": "   "}, 400, "note_required", id="blank"),
        pytest.param(
            {"to": {"senior": True}, "note": "x" * 1001}, 400, "note_too_long", id="long-note"
        ),
        pytest.param({"to": {"senior": True}, "note": "a\x00"}, 400, "body_invalid", id="nul"),
        pytest.param(
            {"to": {"senior": True}, "note": "\ud800"}, 400, "body_invalid", id="surrogate"
        ),
        pytest.param({"to": {"agent": 10**15}, "note": NOTE}, 404, "agent_not_found", id="nobody"),
        pytest.param(
            {"to": {"topic": "nowhere"}, "note": NOTE}, 404, "topic_not_found", id="topic"
        ),
        pytest.param(
            {"to": {"senior": True}, "note": NOTE}, 409, "no_senior_available", id="senior"
        ),
    ],
)
def test_refusals_change_nothing(
    api: Any, chat: Any, payload: dict[str, Any], status: int, code: str
) -> None:
    before = state()
    assert_error(post_json(api, url(chat), payload), status, code)
    assert state() == before


def test_to_oneself_to_someone_away_and_twice(api: Any, chat: Any, alice: Any, topic: Any) -> None:
    away = make_agent(topics=[topic], status="away")
    not_staff = AgentFactory()
    not_staff.groups.clear()
    assert_error(
        api.post(url(chat), {"to": {"agent": alice.pk}, "note": NOTE}), 400, "transfer_to_self"
    )
    assert_error(
        api.post(url(chat), {"to": {"agent": away.pk}, "note": NOTE}), 409, "agent_unavailable"
    )
    # A user who is no agent reads like nobody at all.
    assert_error(
        api.post(url(chat), {"to": {"agent": not_staff.pk}, "note": NOTE}), 404, "agent_not_found"
    )
    bruno = make_agent(topics=[topic])
    assert api.post(url(chat), {"to": {"agent": bruno.pk}, "note": NOTE}).status_code == 201
    carla = make_agent(topics=[topic])
    assert_error(
        api.post(url(chat), {"to": {"agent": carla.pk}, "note": NOTE}), 409, "transfer_pending"
    )


def test_a_topic_nobody_else_handles_is_409(api: Any, chat: Any) -> None:
    TopicFactory(slug="empty")
    # Every agent has skills elsewhere, so nobody (but Alice) would handle it.
    assert_error(
        api.post(url(chat), {"to": {"topic": "empty"}, "note": NOTE}), 409, "no_agents_for_topic"
    )


def test_a_closed_chat_is_409(api: Any, chat: Any, alice: Any, topic: Any) -> None:
    chat_services.chat_close(chat_id=chat.pk, by=chat_services.Participant.agent(alice))
    bruno = make_agent(topics=[topic])
    assert_error(api.post(url(chat), {"to": {"agent": bruno.pk}, "note": NOTE}), 409, "chat_closed")


def test_whose_chat_it_is_decides(api: Any, topic: Any) -> None:
    bruno = make_agent(topics=[topic])
    theirs = held_chat(bruno, topic=topic)
    before = state()
    # A colleague's chat is not found (never "it is Bruno's"); a queued one is not yours.
    assert_error(
        api.post(url(theirs), {"to": {"senior": True}, "note": NOTE}), 404, "chat_not_found"
    )
    assert_error(
        api.post(url(10**12), {"to": {"senior": True}, "note": NOTE}), 404, "chat_not_found"
    )
    queued = start_chat(topic=topic)
    assert_error(api.post(url(queued), {"to": {"senior": True}, "note": NOTE}), 403, "forbidden")
    assert state()["transfers"] == before["transfers"]


def test_no_token_and_a_read_token_transfer_nothing(chat: Any, alice: Any, topic: Any) -> None:
    bruno = make_agent(topics=[topic])
    payload = {"to": {"agent": bruno.pk}, "note": NOTE}
    assert_error(APIClient().post(url(chat), payload, format="json"), 401, "not_authenticated")
    assert_error(client_for(alice, scope="read").post(url(chat), payload), 403, "read_only_token")
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"note": NOTE}, id="no-target"),
        pytest.param({"to": {}, "note": NOTE}, id="empty-target"),
        pytest.param({"to": {"agent": 2, "senior": True}, "note": NOTE}, id="two-targets"),
        pytest.param({"to": {"agent": "2"}, "note": NOTE}, id="agent-string"),
        pytest.param({"to": {"agent": 2.0}, "note": NOTE}, id="agent-float"),
        pytest.param({"to": {"agent": True}, "note": NOTE}, id="agent-bool"),
        pytest.param({"to": {"agent": 0}, "note": NOTE}, id="agent-0"),
        pytest.param({"to": {"agent": 10**30}, "note": NOTE}, id="agent-huge"),
        pytest.param({"to": {"senior": False}, "note": NOTE}, id="senior-false"),
        pytest.param({"to": {"senior": "yes"}, "note": NOTE}, id="senior-text"),
        pytest.param({"to": {"topic": 7}, "note": NOTE}, id="topic-number"),
        pytest.param({"to": {"topic": "x" * 81}, "note": NOTE}, id="topic-long"),
        pytest.param({"to": {"topic": "<b>x</b>"}, "note": NOTE}, id="topic-html"),
        pytest.param({"to": {"team\ud800": 1}, "note": NOTE}, id="unknown-key"),
        pytest.param({"to": "senior", "note": NOTE}, id="to-string"),
        pytest.param({"to": [{"senior": True}], "note": NOTE}, id="to-list"),
        pytest.param({"to": {"senior": True}}, id="no-note"),
        pytest.param({"to": {"senior": True}, "note": 5}, id="note-number"),
        pytest.param({"to": {"senior": True}, "note": None}, id="note-null"),
    ],
)
def test_malformed_requests_are_400_invalid(api: Any, chat: Any, payload: dict[str, Any]) -> None:
    before = state()
    assert_error(post_json(api, url(chat), payload), 400, "invalid")
    assert state() == before
