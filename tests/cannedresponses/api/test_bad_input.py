"""Hostile input on every console endpoint of this app: always a 4xx JSON answer, never a 500."""

import json
from typing import Any

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory
from rest_framework.test import APIClient

from cannedresponses.models import CannedResponse, CannedResponseUse
from tests.cannedresponses.conftest import client_for
from tests.factories import CannedResponseFactory, TopicFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db

BASE = "/api/v1/console/"
LIST = BASE + "canned-responses/"
VALID = {"title": "Greeting", "shortcut": "greet", "body": "Hi {customer.first_name|there}"}


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    if field is not None:
        assert field in body["errors"], body
        assert all(isinstance(message, str) for message in body["errors"][field])


# --- Creating and changing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"title": "x" * 121}, "title", id="title-121"),
        pytest.param({"title": ""}, "title", id="title-empty"),
        pytest.param({"title": 123}, "title", id="title-number"),
        pytest.param({"title": None}, "title", id="title-null"),
        pytest.param({"title": ["a"]}, "title", id="title-list"),
        pytest.param({"title": "a\x00b"}, "title", id="title-nul"),
        pytest.param({"shortcut": "x" * 34}, "shortcut", id="shortcut-34"),
        pytest.param({"shortcut": "no spaces"}, "shortcut", id="shortcut-space"),
        pytest.param({"shortcut": "<script>"}, "shortcut", id="shortcut-markup"),
        pytest.param({"shortcut": {"a": 1}}, "shortcut", id="shortcut-object"),
        pytest.param({"body": "x" * 4001}, "body", id="body-4001"),
        pytest.param({"body": {"text": "x"}}, "body", id="body-object"),
        pytest.param({"body": "{customer.__class__}"}, "body", id="body-attribute"),
        pytest.param({"body": "{customer.name.__init__.__globals__}"}, "body", id="body-chain"),
        pytest.param({"body": "{0.__class__}"}, "body", id="body-positional"),
        pytest.param({"body": "{customer.name!r}"}, "body", id="body-conversion"),
        pytest.param({"body": "{customer.name:>99999999}"}, "body", id="body-format-spec"),
        pytest.param({"body": "{{customer.name}"}, "body", id="body-unbalanced"),
        pytest.param({"body": "{customer.{x}}"}, "body", id="body-nested"),
        pytest.param({"body": "{{ customer.name }}"}, "body", id="body-jinja"),
        pytest.param({"body": "{% load x %}{{ x|safe }}"}, "body", id="body-template-tags"),
        pytest.param({"scope": "global"}, "scope", id="scope-unknown"),
        pytest.param({"scope": 3}, "scope", id="scope-number"),
        pytest.param({"topic": "abc"}, "topic", id="topic-text"),
        pytest.param({"topic": -1}, "topic", id="topic-negative"),
        pytest.param({"topic": 2**64}, "topic", id="topic-huge"),
        pytest.param({"topic": 1.5}, "topic", id="topic-float"),
        pytest.param({"topic": [1]}, "topic", id="topic-list"),
        pytest.param({"is_active": "yes"}, "is_active", id="is-active-text"),
        pytest.param({"is_active": 1}, "is_active", id="is-active-number"),
    ],
)
def test_create_refuses_bad_fields(api: APIClient, changes: dict[str, Any], field: str) -> None:
    response = api.post(LIST, {**VALID, **changes}, format="json")
    assert_error(response, 400, "invalid", field)
    assert not CannedResponse.objects.exists()


@pytest.mark.parametrize("missing", ["title", "shortcut", "body"])
def test_create_needs_its_fields(api: APIClient, missing: str) -> None:
    data = {key: value for key, value in VALID.items() if key != missing}
    assert_error(api.post(LIST, data, format="json"), 400, "invalid", missing)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param('{"title": "a\\ud800", "shortcut": "x", "body": "b"}', "title", id="title"),
        pytest.param('{"title": "t", "shortcut": "x", "body": "\\udfff"}', "body", id="body"),
        pytest.param('{"title": "t", "shortcut": "x", "body": "a\\u0000"}', "body", id="nul"),
    ],
)
def test_lone_surrogates_and_nul_in_raw_json_are_refused(
    api: APIClient, raw: str, field: str
) -> None:
    response = api.post(LIST, raw, content_type="application/json")
    assert_error(response, 400, "invalid", field)


@pytest.mark.parametrize(
    ("payload", "content_type", "status", "code"),
    [
        pytest.param("{not json", "application/json", 400, "parse_error", id="bad-json"),
        pytest.param("[1, 2]", "application/json", 400, "invalid", id="array"),
        pytest.param('"text"', "application/json", 400, "invalid", id="string"),
        pytest.param("null", "application/json", 400, "invalid", id="null"),
        pytest.param(
            "title=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type", id="form"
        ),
        pytest.param("<x/>", "text/xml", 415, "unsupported_media_type", id="xml"),
    ],
)
def test_bodies_that_are_not_a_json_object(
    api: APIClient, payload: str, content_type: str, status: int, code: str
) -> None:
    assert_error(api.post(LIST, payload, content_type=content_type), status, code)


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "x" * 121},
        {"body": "{x:>10}"},
        {"shortcut": 5},
        {"scope": "everyone"},
        {"is_active": "false"},
        {"topic": 2**70},
    ],
    ids=["title", "body", "shortcut", "scope", "is-active", "topic"],
)
def test_patch_refuses_bad_fields(api: APIClient, agent: Any, changes: dict[str, Any]) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent, title="Kept")
    response = api.patch(f"{LIST}{mine.pk}/", changes, format="json")
    assert_error(response, 400, "invalid", next(iter(changes)))
    mine.refresh_from_db()
    assert mine.title == "Kept"


@pytest.mark.parametrize(
    "path",
    [
        "canned-responses/99999999999999999999999999/",
        "canned-responses/99999999999999999999999999/render/",
        "canned-responses/-1/",
        "canned-responses/1.5/",
        "canned-responses/abc/",
        "canned-responses/%00/",
    ],
)
def test_ids_in_paths_that_are_not_ids_are_404_json(api: APIClient, path: str) -> None:
    response = api.get(BASE + path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_same_shortcut_in_another_scope_is_fine_but_not_twice_in_one(
    api: APIClient, lead_api: APIClient, lead: Any
) -> None:
    topic = TopicFactory()
    shared = {**VALID, "scope": "shared"}
    for_topic = {**VALID, "scope": "topic", "topic": topic.pk}
    assert lead_api.post(LIST, shared, format="json").status_code == 201
    assert lead_api.post(LIST, for_topic, format="json").status_code == 201
    assert lead_api.post(LIST, VALID, format="json").status_code == 201  # lead's personal
    assert api.post(LIST, VALID, format="json").status_code == 201  # agent's personal
    for client, data in ((lead_api, shared), (lead_api, for_topic), (api, VALID)):
        assert_error(client.post(LIST, data, format="json"), 400, "invalid", "shortcut")
    assert CannedResponse.objects.count() == 4


# --- Rendering ------------------------------------------------------------------------------


@pytest.fixture
def order(agent: Any) -> tuple[Any, Any]:
    return active_chat(agent=agent), CannedResponseFactory(body="Order {ask:Order number}")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({}, "chat", id="no-chat"),
        pytest.param({"chat": "abc"}, "chat", id="chat-text"),
        pytest.param({"chat": 0}, "chat", id="chat-zero"),
        pytest.param({"chat": 2**64}, "chat", id="chat-huge"),
        pytest.param({"chat": None}, "chat", id="chat-null"),
        pytest.param({"values": ["Order number", "1"]}, "values", id="values-list"),
        pytest.param({"values": "Order number=1"}, "values", id="values-text"),
        pytest.param({"values": {"Order number": 12}}, "values", id="value-number"),
        pytest.param({"values": {"Order number": None}}, "values", id="value-null"),
        pytest.param({"values": {"Order number": {"$gt": ""}}}, "values", id="value-object"),
        pytest.param({"values": {"Order number": "x" * 201}}, "values", id="value-201"),
        pytest.param({"values": {"Order number": "a\x00"}}, "values", id="value-nul"),
        pytest.param({"values": {f"k{i}": "v" for i in range(21)}}, "values", id="21-values"),
        pytest.param({"values": {"x" * 5000: "v"}}, "values", id="label-5000"),
    ],
)
def test_render_refuses_bad_input(
    api: APIClient, order: tuple[Any, Any], payload: dict[str, Any], field: str
) -> None:
    chat, response = order
    data = {"chat": chat.pk, "values": {"Order number": "A1"}} | payload
    if payload == {}:
        data.pop("chat")
    answer = api.post(f"{LIST}{response.pk}/render/", data, format="json")
    assert_error(answer, 400, "invalid", field)
    assert not CannedResponseUse.objects.exists()


def test_a_value_with_a_lone_surrogate_is_refused(api: APIClient, order: tuple[Any, Any]) -> None:
    chat, response = order
    raw = json.dumps({"chat": chat.pk, "values": {"Order number": "x"}}).replace('"x"', '"\\ud800"')
    answer = api.post(f"{LIST}{response.pk}/render/", raw, content_type="application/json")
    assert_error(answer, 400, "invalid", "values")


def test_an_injected_placeholder_in_a_value_is_text(api: APIClient, order: tuple[Any, Any]) -> None:
    chat, response = order
    value = "{customer.email}{{x}}{ask:Order number}{0.__class__}"
    answer = api.post(
        f"{LIST}{response.pk}/render/",
        {"chat": chat.pk, "values": {"Order number": value}},
        format="json",
    )
    assert answer.json() == {"text": f"Order {value}"}


# --- Phrases and tone -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"prefix": "x" * 201}, "prefix", id="prefix-201"),
        pytest.param({"prefix": "a\x00"}, "prefix", id="prefix-nul"),
        pytest.param({"limit": 0}, "limit", id="limit-0"),
        pytest.param({"limit": 21}, "limit", id="limit-21"),
        pytest.param({"limit": "many"}, "limit", id="limit-text"),
        pytest.param({"limit": "9" * 40}, "limit", id="limit-huge"),
    ],
)
def test_phrases_refuse_bad_queries(api: APIClient, query: dict[str, Any], field: str) -> None:
    assert_error(api.get(BASE + "phrases/", query), 400, "invalid", field)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({}, "text", id="missing"),
        pytest.param({"text": "x" * 4001}, "text", id="text-4001"),
        pytest.param({"text": 42}, "text", id="text-number"),
        pytest.param({"text": ["lol"]}, "text", id="text-list"),
        pytest.param({"text": None}, "text", id="text-null"),
    ],
)
def test_tone_check_refuses_bad_input(api: APIClient, payload: dict[str, Any], field: str) -> None:
    assert_error(api.post(BASE + "tone-check/", payload, format="json"), 400, "invalid", field)


def test_list_with_a_bad_chat_parameter(api: APIClient) -> None:
    for value in ("abc", "-3", "0", "9" * 30, "1e3"):
        assert_error(api.get(LIST, {"chat": value}), 400, "invalid", "chat")


# --- CSRF -----------------------------------------------------------------------------------


def test_every_unsafe_method_needs_the_csrf_token(agent: Any) -> None:
    mine = CannedResponseFactory(personal=True, owner=agent, title="Kept")
    chat = active_chat(agent=agent)
    client = client_for(agent, csrf=True)
    calls = [
        lambda **kw: client.post(LIST, VALID, format="json", **kw),
        lambda **kw: client.patch(f"{LIST}{mine.pk}/", {"title": "x"}, format="json", **kw),
        lambda **kw: client.post(
            f"{LIST}{mine.pk}/render/", {"chat": chat.pk}, format="json", **kw
        ),
        lambda **kw: client.post(BASE + "tone-check/", {"text": "lol"}, format="json", **kw),
        lambda **kw: client.delete(f"{LIST}{mine.pk}/", **kw),
    ]
    for call in calls:
        answer = call()
        assert_error(answer, 403, "permission_denied")
        assert "CSRF" in answer.json()["detail"]
    mine.refresh_from_db()
    assert mine.title == "Kept"
    assert CannedResponse.objects.count() == 1

    # With the session's token (as the console sends it), the same calls work.
    token = get_token(RequestFactory().get("/"))
    client.cookies["csrftoken"] = token
    headers = {"HTTP_X_CSRFTOKEN": token}
    statuses = [call(**headers).status_code for call in calls]
    assert statuses == [201, 200, 200, 200, 204]
