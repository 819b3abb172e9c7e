"""One shortcut per scope: a clear validation error first, database constraints behind it."""

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from cannedresponses.errors import CannedResponseInvalid
from cannedresponses.models import CannedResponse
from cannedresponses.services import canned_response_create
from tests.factories import AgentFactory, CannedResponseFactory, TopicFactory

pytestmark = pytest.mark.django_db

TAKEN = "already the shortcut"


def create(actor: Any, **kwargs: Any) -> CannedResponse:
    fields = {"title": "T", "shortcut": "greet", "body": "Hello"} | kwargs
    return canned_response_create(actor=actor, **fields)


def shortcut_errors(actor: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(CannedResponseInvalid) as caught:
        create(actor, **kwargs)
    return caught.value.errors.get("shortcut", [])


def test_a_shared_shortcut_is_taken_once(lead: Any) -> None:
    create(lead, scope="shared")
    errors = shortcut_errors(lead, scope="shared")
    assert errors == ["/greet is already the shortcut of a shared response; choose another."]


def test_a_topic_shortcut_is_taken_once_per_topic(lead: Any) -> None:
    returns, billing = TopicFactory(), TopicFactory()
    create(lead, scope="topic", topic=returns)
    create(lead, scope="topic", topic=billing)
    assert TAKEN in shortcut_errors(lead, scope="topic", topic=returns)[0]


def test_a_personal_shortcut_is_taken_once_per_agent(agent: Any) -> None:
    create(agent)
    create(AgentFactory())  # another agent's /greet
    assert shortcut_errors(agent) == [
        "/greet is already the shortcut of one of your personal responses; choose another."
    ]


def test_the_same_shortcut_in_different_scopes_is_allowed(agent: Any, lead: Any) -> None:
    topic = TopicFactory()
    create(lead, scope="shared")
    create(lead, scope="topic", topic=topic)
    create(lead)  # the supervisor's personal one
    create(agent)
    assert CannedResponse.objects.filter(shortcut="greet").count() == 4


def test_shortcuts_are_normalised_before_they_are_compared(agent: Any) -> None:
    create(agent, shortcut="greet")
    assert TAKEN in shortcut_errors(agent, shortcut=" /GREET ")[0]


def test_an_inactive_response_keeps_its_shortcut(lead: Any) -> None:
    CannedResponseFactory(shortcut="greet", is_active=False)
    assert TAKEN in shortcut_errors(lead, scope="shared")[0]


@pytest.mark.parametrize(
    "shortcut",
    ["", "-greet", "_x", "gr eet", "grüße", "a" * 33, "greet!", "/", "g/h", "ü"],
)
def test_a_shortcut_outside_the_pattern_is_refused(agent: Any, shortcut: str) -> None:
    errors = shortcut_errors(agent, shortcut=shortcut)
    assert errors and ("A shortcut is 1-32 characters" in errors[0] or "blank" in errors[0])


@pytest.mark.parametrize(
    ("fields", "scope"),
    [
        pytest.param({"scope": "shared"}, "shared", id="shared"),
        pytest.param({"scope": "topic"}, "topic", id="topic"),
        pytest.param({"scope": "personal"}, "personal", id="personal"),
    ],
)
def test_the_database_refuses_a_duplicate_that_skipped_validation(
    agent: Any, fields: dict[str, Any], scope: str
) -> None:
    topic = TopicFactory()
    extra: dict[str, Any] = {
        "shared": {},
        "topic": {"topic": topic},
        "personal": {"owner": agent},
    }[scope]
    CannedResponse.objects.create(title="a", shortcut="dup", body="x", **fields, **extra)
    with pytest.raises(IntegrityError), transaction.atomic():
        CannedResponse.objects.create(title="b", shortcut="dup", body="y", **fields, **extra)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"scope": "shared", "owner_id": "agent"}, id="shared-with-owner"),
        pytest.param({"scope": "topic"}, id="topic-without-topic"),
        pytest.param({"scope": "personal"}, id="personal-without-owner"),
        pytest.param({"scope": "personal", "owner_id": "agent", "topic_id": "topic"}, id="both"),
    ],
)
def test_the_database_refuses_scope_fields_that_do_not_fit(
    agent: Any, fields: dict[str, Any]
) -> None:
    topic = TopicFactory()
    resolved = {
        key: {"agent": agent.pk, "topic": topic.pk}.get(value, value)
        for key, value in fields.items()
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        CannedResponse.objects.create(title="a", shortcut="x", body="x", **resolved)


def test_a_race_past_validation_gets_the_same_clear_error(
    agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(agent)
    # As if a concurrent request had passed clean() just before this one committed.
    monkeypatch.setattr(CannedResponse, "_shortcut_taken", lambda self: False)
    assert TAKEN in shortcut_errors(agent)[0]
