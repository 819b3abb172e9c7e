"""POST, GET, PATCH and DELETE of canned responses through the console API."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from cannedresponses.models import CannedResponse
from tests.factories import AgentFactory, CannedResponseFactory, TopicFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/console/canned-responses/"


def detail(response_id: int) -> str:
    return f"{URL}{response_id}/"


def test_an_agent_creates_a_personal_response(api: APIClient, agent: Any) -> None:
    response = api.post(
        URL,
        {"title": "Greeting", "shortcut": "/Hi", "body": "Hi {customer.first_name|there}!"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    created = CannedResponse.objects.get()
    assert body == {
        "id": created.pk,
        "title": "Greeting",
        "shortcut": "hi",
        "scope": "personal",
        "topic": None,
        "body": "Hi {customer.first_name|there}!",
        "asks": [],
        "editable": True,
        "use_count": 0,
        "is_active": True,
    }
    assert (created.owner, created.created_by) == (agent, agent)


@pytest.mark.parametrize("scope", ["shared", "topic"])
def test_an_agent_may_not_create_a_shared_response(api: APIClient, scope: str) -> None:
    topic = TopicFactory()
    response = api.post(
        URL,
        {"title": "T", "shortcut": "x", "body": "b", "scope": scope, "topic": topic.pk},
        format="json",
    )
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "detail": "Only supervisors may create or change responses shared with others.",
    }
    assert not CannedResponse.objects.exists()


def test_a_supervisor_creates_a_topic_response(lead_api: APIClient) -> None:
    topic = TopicFactory(name="Returns")
    response = lead_api.post(
        URL,
        {"title": "T", "shortcut": "ret", "body": "b", "scope": "topic", "topic": topic.pk},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["topic"] == {"id": topic.pk, "name": "Returns"}
    assert response.json()["editable"] is True


def test_an_unknown_topic_is_a_field_error(lead_api: APIClient) -> None:
    response = lead_api.post(
        URL,
        {"title": "T", "shortcut": "x", "body": "b", "scope": "topic", "topic": 987654},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"topic": ["No such topic."]}


def test_a_duplicate_shortcut_in_one_scope_is_a_field_error(api: APIClient, agent: Any) -> None:
    CannedResponseFactory(personal=True, owner=agent, shortcut="greet")
    CannedResponseFactory(shortcut="shared-one")  # same name elsewhere is fine below
    response = api.post(URL, {"title": "T", "shortcut": "greet", "body": "b"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "The request has invalid fields.",
        "errors": {
            "shortcut": [
                "/greet is already the shortcut of one of your personal responses; choose another."
            ]
        },
    }
    ok = api.post(URL, {"title": "T", "shortcut": "shared-one", "body": "b"}, format="json")
    assert ok.status_code == 201


def test_placeholder_problems_come_back_on_the_body(api: APIClient) -> None:
    response = api.post(
        URL,
        {"title": "T", "shortcut": "x", "body": "{customer.__class__} {customer.name!r}"},
        format="json",
    )
    assert response.status_code == 400
    problems = response.json()["errors"]["body"]
    assert "{customer.__class__}" in problems[0]
    assert "conversions such as !r" in problems[1]


def test_get_one(api: APIClient, agent: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent, body="{ask:Ref}")
    response = api.get(detail(mine.pk))
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["asks"]) == (mine.pk, ["Ref"])


def test_patch_own_personal_response(api: APIClient, agent: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent, shortcut="old")
    mine.uses.create(agent=agent, count=5)
    response = api.patch(
        detail(mine.pk), {"shortcut": "new", "body": "New {ask:Ref}"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["shortcut"] == "new"
    assert response.json()["asks"] == ["Ref"]
    assert response.json()["use_count"] == 5


def test_patch_can_deactivate_and_reactivate(api: APIClient, agent: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent)
    assert (
        api.patch(detail(mine.pk), {"is_active": False}, format="json").json()["is_active"] is False
    )
    assert api.get(URL).json() == []
    assert api.patch(detail(mine.pk), {"is_active": True}, format="json").status_code == 200


def test_another_agents_response_is_404_everywhere_with_no_leak(api: APIClient) -> None:
    theirs = CannedResponseFactory(personal=True, owner=AgentFactory(), title="Secret")
    missing = detail(theirs.pk + 1000)
    for url in (detail(theirs.pk), missing):
        answers = [
            api.get(url),
            api.patch(url, {"title": "x"}, format="json"),
            api.delete(url),
            api.post(url + "render/", {"chat": 1}, format="json"),
        ]
        for answer in answers:
            assert answer.status_code == 404
            assert answer.json() == {
                "code": "canned_response_not_found",
                "detail": "No such canned response.",
            }
    theirs.refresh_from_db()
    assert theirs.title == "Secret"


def test_an_agent_may_not_patch_or_delete_a_shared_response(api: APIClient) -> None:
    shared = CannedResponseFactory(title="Shared")
    assert api.patch(detail(shared.pk), {"title": "x"}, format="json").status_code == 403
    assert api.delete(detail(shared.pk)).status_code == 403
    shared.refresh_from_db()
    assert shared.title == "Shared"


def test_a_supervisor_edits_a_shared_response(lead_api: APIClient) -> None:
    shared = CannedResponseFactory()
    response = lead_api.patch(detail(shared.pk), {"title": "Better"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Better"


def test_delete_own(api: APIClient, agent: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent)
    response = api.delete(detail(mine.pk))
    assert response.status_code == 204
    assert not CannedResponse.objects.exists()


def test_the_placeholder_list(api: APIClient) -> None:
    names = [row["name"] for row in api.get(URL + "placeholders/").json()]
    assert names[:3] == ["customer.name", "customer.first_name", "customer.email"]
    assert "today" in names
