"""Creating, changing and deleting responses: who may touch which scope, and validation."""

from typing import Any

import pytest

from cannedresponses.errors import (
    CannedResponseInvalid,
    CannedResponseNotFound,
    SharedResponsesForbidden,
)
from cannedresponses.models import CannedResponse
from cannedresponses.services import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
)
from tests.factories import AgentFactory, CannedResponseFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def create(actor: Any, **kwargs: Any) -> CannedResponse:
    fields = {"title": "Greeting", "shortcut": "greet", "body": "Hi {customer.first_name}"}
    return canned_response_create(actor=actor, **(fields | kwargs))


def errors_of(call: Any) -> dict[str, list[str]]:
    with pytest.raises(CannedResponseInvalid) as caught:
        call()
    return caught.value.errors


# --- Create ---------------------------------------------------------------------------------


def test_an_agent_creates_a_personal_response_they_own(agent: Any) -> None:
    response = create(agent, shortcut="/Greet")
    assert (response.scope, response.owner, response.created_by) == ("personal", agent, agent)
    assert response.shortcut == "greet"


@pytest.mark.parametrize("scope", ["shared", "topic"])
def test_an_agent_may_not_create_shared_responses(agent: Any, scope: str) -> None:
    with pytest.raises(SharedResponsesForbidden):
        create(agent, scope=scope, topic=TopicFactory() if scope == "topic" else None)
    assert not CannedResponse.objects.exists()


def test_a_supervisor_creates_shared_and_topic_responses_without_owner(lead: Any) -> None:
    topic = TopicFactory()
    shared = create(lead, scope="shared")
    for_topic = create(lead, scope="topic", topic=topic)
    assert (shared.owner, for_topic.owner, for_topic.topic) == (None, None, topic)


def test_a_superuser_manages_shared_responses() -> None:
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert create(admin, scope="shared").scope == "shared"


def test_a_topic_response_needs_its_topic_and_only_it_has_one(lead: Any) -> None:
    assert errors_of(lambda: create(lead, scope="topic")) == {
        "topic": ["A response shared for a topic needs a topic."]
    }
    assert errors_of(lambda: create(lead, scope="shared", topic=TopicFactory())) == {
        "topic": ["Only responses shared for a topic have one."]
    }


def test_placeholder_problems_are_listed_on_the_body(agent: Any) -> None:
    errors = errors_of(lambda: create(agent, body="Hi {customer.__class__} {0}"))
    assert list(errors) == ["body"]
    assert errors["body"][0].startswith("At character 4: {customer.__class__}")
    assert errors["body"][1].startswith("At character 25: {0}")
    assert errors["body"][-1].startswith("Allowed placeholders:")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"title": "x" * 121}, "title", id="title-121"),
        pytest.param({"title": "   "}, "title", id="title-blank"),
        pytest.param({"title": "a\x00b"}, "title", id="title-nul"),
        pytest.param({"title": "a\ud800b"}, "title", id="title-surrogate"),
        pytest.param({"body": "x" * 4001}, "body", id="body-4001"),
        pytest.param({"body": ""}, "body", id="body-empty"),
        pytest.param({"body": "a\x00b"}, "body", id="body-nul"),
        pytest.param({"body": "a\udfffb"}, "body", id="body-surrogate"),
    ],
)
def test_bad_text_is_refused_per_field(agent: Any, fields: dict[str, str], field: str) -> None:
    assert field in errors_of(lambda: create(agent, **fields))
    assert not CannedResponse.objects.exists()


def test_the_longest_title_and_body_are_accepted(agent: Any) -> None:
    response = create(agent, title="t" * 120, body="b" * 4000)
    assert (len(response.title), len(response.body)) == (120, 4000)


def test_script_payloads_are_stored_as_text(agent: Any) -> None:
    payload = "<script>alert(1)</script>"
    response = create(agent, title=payload, body=f"{payload} {{customer.name}}")
    response.refresh_from_db()
    assert response.title == payload
    assert response.body == f"{payload} {{customer.name}}"


# --- Update and delete ----------------------------------------------------------------------


def test_an_agent_changes_their_own_personal_response(agent: Any) -> None:
    response = CannedResponseFactory(personal=True, owner=agent, shortcut="old")
    updated = canned_response_update(
        actor=agent, response_id=response.pk, title="New", shortcut="new", is_active=False
    )
    assert (updated.title, updated.shortcut, updated.is_active) == ("New", "new", False)


def test_another_agents_personal_response_is_not_found_for_update_and_delete(agent: Any) -> None:
    theirs = CannedResponseFactory(personal=True, owner=AgentFactory())
    with pytest.raises(CannedResponseNotFound):
        canned_response_update(actor=agent, response_id=theirs.pk, title="Mine now")
    with pytest.raises(CannedResponseNotFound):
        canned_response_delete(actor=agent, response_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.title != "Mine now"


def test_even_a_supervisor_does_not_touch_an_agents_personal_response(lead: Any) -> None:
    theirs = CannedResponseFactory(personal=True)
    with pytest.raises(CannedResponseNotFound):
        canned_response_delete(actor=lead, response_id=theirs.pk)


def test_an_agent_may_not_change_or_delete_a_shared_response(agent: Any) -> None:
    shared = CannedResponseFactory()
    with pytest.raises(SharedResponsesForbidden):
        canned_response_update(actor=agent, response_id=shared.pk, body="Mine")
    with pytest.raises(SharedResponsesForbidden):
        canned_response_delete(actor=agent, response_id=shared.pk)
    assert CannedResponse.objects.filter(pk=shared.pk, body=shared.body).exists()


def test_an_inactive_shared_response_is_not_found_for_an_agent(agent: Any) -> None:
    hidden = CannedResponseFactory(is_active=False)
    with pytest.raises(CannedResponseNotFound):
        canned_response_delete(actor=agent, response_id=hidden.pk)


def test_an_agent_may_not_share_their_personal_response(agent: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent)
    with pytest.raises(SharedResponsesForbidden):
        canned_response_update(actor=agent, response_id=mine.pk, scope="shared")
    mine.refresh_from_db()
    assert (mine.scope, mine.owner) == ("personal", agent)


def test_a_supervisor_shares_their_own_response_and_moves_it_to_a_topic(lead: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=lead)
    shared = canned_response_update(actor=lead, response_id=mine.pk, scope="shared")
    assert (shared.scope, shared.owner) == ("shared", None)
    topic = TopicFactory()
    moved = canned_response_update(actor=lead, response_id=mine.pk, scope="topic", topic=topic)
    assert (moved.scope, moved.topic) == ("topic", topic)
    other = TopicFactory()
    assert canned_response_update(actor=lead, response_id=mine.pk, topic=other).topic == other


def test_an_update_is_validated_like_a_create(agent: Any) -> None:
    CannedResponseFactory(personal=True, owner=agent, shortcut="taken")
    mine = CannedResponseFactory(personal=True, owner=agent, shortcut="mine")
    errors = errors_of(
        lambda: canned_response_update(
            actor=agent, response_id=mine.pk, shortcut="taken", body="{x:>10}"
        )
    )
    assert set(errors) == {"shortcut", "body"}
    mine.refresh_from_db()
    assert (mine.shortcut, mine.body) != ("taken", "{x:>10}")


def test_a_response_keeps_its_own_shortcut_on_update(agent: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent, shortcut="mine")
    assert canned_response_update(actor=agent, response_id=mine.pk, shortcut="mine").pk == mine.pk


def test_delete_removes_the_response_and_its_usage(agent: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent)
    mine.uses.create(agent=agent, count=3)
    canned_response_delete(actor=agent, response_id=mine.pk)
    assert not CannedResponse.objects.filter(pk=mine.pk).exists()


def test_a_missing_response_is_not_found(agent: Any) -> None:
    with pytest.raises(CannedResponseNotFound):
        canned_response_update(actor=agent, response_id=987654, title="x")
