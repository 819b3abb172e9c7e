"""/api/v1/canned-responses/: the shared and topic responses and the token user's own, never
another agent's; writes through cannedresponses.services with the console's rules."""

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from cannedresponses.models import CannedResponse
from tests.api_support import assert_error, client_for, fresh_cache, query_count, result_ids
from tests.factories import (
    AgentFactory,
    CannedResponseFactory,
    CannedResponseUseFactory,
    SupervisorFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/canned-responses/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


def test_an_agent_sees_shared_topic_and_own_responses_only() -> None:
    agent = AgentFactory()
    shared = CannedResponseFactory()
    for_topic = CannedResponseFactory(for_topic=True)
    mine = CannedResponseFactory(personal=True, owner=agent)
    CannedResponseFactory(personal=True)  # a colleague's
    CannedResponseFactory(is_active=False)  # retired by a supervisor

    assert set(result_ids(client_for(agent).get(URL))) == {shared.pk, for_topic.pk, mine.pk}


def test_a_supervisor_also_sees_inactive_team_responses() -> None:
    retired = CannedResponseFactory(is_active=False)
    CannedResponseFactory(personal=True)

    ids = set(result_ids(client_for(SupervisorFactory()).get(URL)))

    assert ids == {retired.pk}


def test_a_row_with_its_use_and_whether_it_may_be_changed() -> None:
    agent = AgentFactory()
    topic = TopicFactory()
    response = CannedResponseFactory(
        for_topic=True, topic=topic, body="Hi {customer.first_name|there}, {ask:Order number}?"
    )
    CannedResponseUseFactory(response=response, agent=agent, count=7)

    [row] = client_for(agent).get(URL).json()["results"]

    assert row["topic"] == {"id": topic.pk, "slug": topic.slug, "name": topic.name}
    assert row["asks"] == ["Order number"]
    assert row["use_count"] == 7
    assert row["editable"] is False  # agents do not change topic responses
    assert row["scope"] == "topic"


def test_filters_by_topic_scope_active_and_search() -> None:
    agent = AgentFactory()
    topic, other = TopicFactory(), TopicFactory()
    shared = CannedResponseFactory(title="Greeting", body="Hello there")
    ours = CannedResponseFactory(for_topic=True, topic=topic, title="Refunds")
    CannedResponseFactory(for_topic=True, topic=other)
    mine = CannedResponseFactory(personal=True, owner=agent, shortcut="parcel", is_active=False)
    client = client_for(agent)

    # What fits a chat of `topic`: shared, its own, mine.
    assert set(result_ids(client.get(URL, {"topic": topic.pk}))) == {shared.pk, ours.pk, mine.pk}
    assert set(result_ids(client.get(URL, {"topic": topic.pk, "scope": "topic"}))) == {ours.pk}
    assert set(result_ids(client.get(URL, {"active": "false"}))) == {mine.pk}
    assert set(result_ids(client.get(URL, {"q": "HELLO"}))) == {shared.pk}
    assert set(result_ids(client.get(URL, {"q": "parc"}))) == {mine.pk}
    assert set(result_ids(client.get(URL, {"q": "%"}))) == set()  # a LIKE wildcard is a character


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"topic": "one"}, "topic"),
        ({"scope": "everyone"}, "scope"),
        ({"active": "sometimes"}, "active"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a\x07b"}, "q"),
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_bad_filters_are_400(params: dict[str, str], field: str) -> None:
    body = assert_error(client_for(AgentFactory()).get(URL, params), 400, "invalid")
    assert field in body["errors"]


def test_the_query_count_does_not_grow_with_the_rows() -> None:
    agent = AgentFactory()
    client = client_for(agent)
    CannedResponseUseFactory(response=CannedResponseFactory(for_topic=True), agent=agent)
    client.get(URL)  # the token's first use records last_used_at
    one = query_count(client, URL)
    for _ in range(19):
        CannedResponseUseFactory(response=CannedResponseFactory(for_topic=True), agent=agent)

    assert query_count(client, URL) == one
    assert len(client.get(URL).json()["results"]) == 20


def test_pages_with_a_cursor() -> None:
    rows = [CannedResponseFactory() for _ in range(3)]
    client = client_for(AgentFactory())

    first = client.get(URL, {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert [r["id"] for r in first["results"] + second["results"]] == [r.pk for r in reversed(rows)]


def test_another_agents_personal_response_is_404() -> None:
    theirs = CannedResponseFactory(personal=True)

    response = client_for(AgentFactory()).get(f"{URL}{theirs.pk}/")

    assert_error(response, 404, "canned_response_not_found")


def test_html_in_a_response_comes_back_as_data() -> None:
    agent = AgentFactory()
    mine = CannedResponseFactory(personal=True, owner=agent, title="<b>bold</b><script>x</script>")

    row = client_for(agent).get(f"{URL}{mine.pk}/").json()

    assert row["title"] == "<b>bold</b><script>x</script>"


# --- Writing ----------------------------------------------------------------------------------


def test_an_agent_creates_a_personal_response() -> None:
    agent = AgentFactory()

    response = client_for(agent, scope="write").post(
        URL, {"title": "Parcel", "shortcut": "/Parcel", "body": "Hi {customer.name}"}, format="json"
    )

    assert response.status_code == 201, response.content
    row = response.json()
    assert row["shortcut"] == "parcel"
    assert row["scope"] == "personal"
    assert row["editable"] is True
    assert CannedResponse.objects.get(pk=row["id"]).owner == agent


def test_an_agent_may_not_create_a_shared_response() -> None:
    response = client_for(AgentFactory(), scope="write").post(
        URL, {"title": "Hi", "shortcut": "hi", "body": "Hi", "scope": "shared"}, format="json"
    )

    assert_error(response, 403, "forbidden")


def test_a_supervisor_creates_a_topic_response() -> None:
    topic = TopicFactory()

    response = client_for(SupervisorFactory(), scope="write").post(
        URL,
        {"title": "Hi", "shortcut": "hi", "body": "Hi", "scope": "topic", "topic": topic.pk},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["topic"]["id"] == topic.pk


def test_a_read_token_may_not_write() -> None:
    agent = AgentFactory()
    mine = CannedResponseFactory(personal=True, owner=agent)
    client = client_for(agent, scope="read")

    assert_error(
        client.post(URL, {"title": "Hi", "shortcut": "hi", "body": "Hi"}, format="json"),
        403,
        "read_only_token",
    )
    assert_error(
        client.patch(f"{URL}{mine.pk}/", {"title": "x"}, format="json"), 403, "read_only_token"
    )
    assert_error(client.delete(f"{URL}{mine.pk}/"), 403, "read_only_token")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "Hi", "shortcut": "no spaces", "body": "Hi"}, "shortcut"),
        ({"title": "Hi", "shortcut": "hi", "body": "Hi {customer.password}"}, "body"),
        ({"title": 5, "shortcut": "hi", "body": "Hi"}, "title"),
        ({"title": "Hi", "shortcut": "hi", "body": "b" * 4001}, "body"),
        (
            {"title": "Hi", "shortcut": "hi", "body": "Hi", "topic": 999999, "scope": "topic"},
            "topic",
        ),
    ],
)
def test_bad_responses_are_400(payload: dict[str, Any], field: str) -> None:
    response = client_for(SupervisorFactory(), scope="write").post(URL, payload, format="json")

    body = assert_error(response, 400, "invalid")
    assert field in body["errors"]


def test_an_agent_changes_and_deletes_their_own() -> None:
    agent = AgentFactory()
    mine = CannedResponseFactory(personal=True, owner=agent)
    client = client_for(agent, scope="write")

    changed = client.patch(f"{URL}{mine.pk}/", {"title": "New title"}, format="json")
    deleted = client.delete(f"{URL}{mine.pk}/")

    assert changed.status_code == 200, changed.content
    assert changed.json()["title"] == "New title"
    assert deleted.status_code == 204
    assert not CannedResponse.objects.filter(pk=mine.pk).exists()


def test_an_agent_cannot_touch_a_colleagues_response() -> None:
    theirs = CannedResponseFactory(personal=True)
    client = client_for(AgentFactory(), scope="write")

    assert_error(
        client.patch(f"{URL}{theirs.pk}/", {"title": "x"}, format="json"),
        404,
        "canned_response_not_found",
    )
    assert_error(client.delete(f"{URL}{theirs.pk}/"), 404, "canned_response_not_found")
    assert CannedResponse.objects.filter(pk=theirs.pk).exists()


def test_without_a_token_it_is_401() -> None:
    assert_error(APIClient().get(URL), 401, "not_authenticated")
