"""GET /api/v1/console/kb/articles/: the console's knowledge base search, agents only."""

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import (
    AgentFactory,
    ArticleFactory,
    ConsoleSupervisorFactory,
    SupervisorFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/console/kb/articles/"


@pytest.fixture(autouse=True)
def _no_throttle(settings: Any) -> None:
    # The throttling test sets its own rate; others must not depend on earlier requests.
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "console_kb": None}
    settings.REST_FRAMEWORK = rest


def client_for(user: Any, *, csrf: bool = False) -> APIClient:
    client = APIClient(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def agent() -> Any:
    return AgentFactory()


@pytest.fixture
def api(agent: Any) -> APIClient:
    return client_for(agent)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- Who may search ---------------------------------------------------------------------------


def test_anonymous_is_refused_with_json() -> None:
    ArticleFactory(title="Refunds")
    assert_error(APIClient().get(URL, {"q": "refunds"}), 403, "not_authenticated")


@pytest.mark.parametrize("factory", [UserFactory, SupervisorFactory])
def test_only_agents_may_search(factory: Any) -> None:
    # A supervisor without the console (not in Agents) is no agent either.
    response = client_for(factory()).get(URL, {"q": "refunds"})
    assert_error(response, 403, "permission_denied")


def test_an_inactive_agent_is_refused() -> None:
    agent = AgentFactory()
    client = client_for(agent)
    agent.is_active = False
    agent.save()
    assert client.get(URL, {"q": "refunds"}).status_code == 403


def test_a_supervisor_with_the_console_may_search() -> None:
    ArticleFactory(title="Refunds")
    response = client_for(ConsoleSupervisorFactory()).get(URL, {"q": "refunds"})
    assert response.status_code == 200
    assert [row["title"] for row in response.json()] == ["Refunds"]


def test_csrf_does_not_apply_to_the_read_but_the_endpoint_reads_only(agent: Any) -> None:
    ArticleFactory(title="Refunds")
    strict = client_for(agent, csrf=True)
    assert strict.get(URL, {"q": "refunds"}).status_code == 200
    # An unsafe method without the token fails on CSRF first, and is not allowed anyway.
    assert_error(strict.post(URL, {"q": "refunds"}, format="json"), 403, "permission_denied")
    assert_error(client_for(agent).post(URL, {}, format="json"), 405, "method_not_allowed")


# --- What it answers --------------------------------------------------------------------------


def test_each_result_carries_what_the_panel_inserts(api: APIClient) -> None:
    topic = TopicFactory(name="Returns", slug="returns")
    article = ArticleFactory(
        title="How to return an item",
        slug="how-to-return",
        topic=topic,
        body="# Returns\n\nSend it back within **30 days**.",
    )
    [row] = api.get(URL, {"q": "return"}).json()
    assert row == {
        "id": article.pk,
        "title": "How to return an item",
        "url": "http://testserver/help/how-to-return/",
        "excerpt": "Returns Send it back within 30 days.",
        "topic": {"slug": "returns", "name": "Returns"},
    }


def test_the_url_follows_the_host_the_console_is_on(api: APIClient, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["help.example.com"]
    ArticleFactory(title="Refunds", slug="refunds")
    [row] = api.get(URL, {"q": "refunds"}, HTTP_HOST="help.example.com", secure=True).json()
    assert row["url"] == "https://help.example.com/help/refunds/"
    assert row["topic"] is None


def test_the_topic_boost_and_drafts(api: APIClient) -> None:
    TopicFactory(slug="billing")
    ArticleFactory(title="Refund to your card", body="Refund.")
    ArticleFactory(title="Refund by invoice", topic=TopicFactory(slug="billing"), body="Refund.")
    ArticleFactory(title="Refund draft", is_published=False)
    rows = api.get(URL, {"q": "refund", "topic": "billing"}).json()
    assert [row["title"] for row in rows] == ["Refund by invoice", "Refund to your card"]


def test_script_payloads_come_back_as_inert_text(api: APIClient) -> None:
    ArticleFactory(
        title="<script>alert(1)</script> Refunds",
        body="<img src=x onerror=alert(1)> Refunds [x](javascript:alert(1))",
    )
    response = api.get(URL, {"q": "refunds"})
    [row] = response.json()
    # JSON, not HTML: the title is the text the supervisor typed; the console shows it as text.
    assert response["Content-Type"] == "application/json"
    assert row["title"] == "<script>alert(1)</script> Refunds"
    assert row["excerpt"] == "<img src=x onerror=alert(1)> Refunds x"
    assert "javascript" not in row["excerpt"]


def test_a_list_costs_the_same_queries_for_one_or_ten(
    api: APIClient, django_assert_num_queries: Any
) -> None:
    topic = TopicFactory(slug="returns")
    ArticleFactory(title="Parcel 0", topic=topic)
    # Session, user, agent check, search: the topics come with the articles.
    with django_assert_num_queries(4):
        assert len(api.get(URL, {"q": "parcel", "topic": "returns"}).json()) == 1
    for n in range(1, 12):
        ArticleFactory(title=f"Parcel {n}", topic=topic if n % 2 else None)
    with django_assert_num_queries(4):
        assert len(api.get(URL, {"q": "parcel", "topic": "returns"}).json()) == 10


# --- Hostile input: 4xx JSON, never a 500 -----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "refund\x00"}, "q"),
        ({"q": "ref\x1bund"}, "q"),
        ({"q": "ref\x7fund"}, "q"),
        ({"q": "refund", "topic": "<script>"}, "topic"),
        ({"q": "refund", "topic": "x" * 81}, "topic"),
        ({"q": "refund", "topic": "a b"}, "topic"),
    ],
)
def test_bad_queries_are_400_with_the_field(
    api: APIClient, params: dict[str, str], field: str
) -> None:
    body = assert_error(api.get(URL, params), 400, "invalid")
    assert list(body["errors"]) == [field]


def test_the_length_rule_is_said_plainly(api: APIClient) -> None:
    body = assert_error(api.get(URL, {"q": "x" * 10_000}), 400, "invalid")
    assert body["errors"]["q"] == ["Ensure this field has no more than 200 characters."]
    body = assert_error(api.get(URL, {"q": "a\x01b"}), 400, "invalid")
    assert body["errors"]["q"] == ["A search cannot contain control characters."]


@pytest.mark.parametrize(
    "query",
    [
        "x" * 200,
        "<script>alert(1)</script>",
        "'; DROP TABLE helpdesk_article; --",
        "%_%",
        'refund" OR 1=1 --',
        "tabs\tand\nnewlines are blanks",
        "🙂 ünïcödé ✓",
        "\ufffd\ufffd",
    ],
)
def test_odd_but_valid_queries_answer_200(api: APIClient, query: str) -> None:
    ArticleFactory(title="Refund policy")
    response = api.get(URL, {"q": query})
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_undecodable_bytes_in_the_query_string_are_searched_as_replacement_characters(
    api: APIClient,
) -> None:
    # Django decodes the query string leniently (U+FFFD): an ordinary search, finding nothing.
    ArticleFactory(title="Refund policy")
    response = api.get(URL + "?q=%ff%fe")
    assert response.status_code == 200
    assert response.json() == []


def test_searches_are_throttled_per_agent(api: APIClient, agent: Any, settings: Any) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "console_kb": "2/min"}
    settings.REST_FRAMEWORK = rest
    # The history of this user id from an earlier run (a shared Redis cache) would count.
    cache.delete(f"throttle_console_kb_{agent.pk}")
    assert api.get(URL, {"q": "a1"}).status_code == 200
    assert api.get(URL, {"q": "a2"}).status_code == 200
    assert_error(api.get(URL, {"q": "a3"}), 429, "throttled")
    cache.delete(f"throttle_console_kb_{agent.pk}")


def test_the_endpoint_is_in_the_schema_with_its_errors() -> None:
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/console/kb/articles/"]["get"]
    assert {"200", "400", "403", "429"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} == {"q", "topic"}
