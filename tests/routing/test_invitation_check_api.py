"""POST /api/v1/public/invitations/check/: the widget asks whether to invite this visitor now.
Anonymous, throttled per address, cross-origin for the widget's sites; sets no cookie, stores
nothing; every hostile input is a 4xx JSON answer; two queries whatever the number of rules."""

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from routing.invitation_services import offer_rule_id
from routing.models import InvitationTally
from tests.factories import InvitationRuleFactory, TopicFactory
from tests.routing.invitation_support import CHECK_URL, check, fresh_throttles, staffed, visit_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    yield from fresh_throttles()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def rule() -> Any:
    topic = TopicFactory(slug="returns", name="Returns")
    staffed(topic)
    return InvitationRuleFactory(
        topic=topic, url_patterns="/shop/*", text="Need help with <b>sizes</b>? Ask us & see."
    )


def test_a_ready_rule_is_offered(api: APIClient, rule: Any) -> None:
    response = check(api)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["check_again_in"] is None
    invitation = body["invitation"]
    assert invitation["rule"] == rule.pk
    # Plain text in JSON: the widget shows it with textContent, so the markup stays text.
    assert invitation["text"] == "Need help with <b>sizes</b>? Ask us & see."
    assert invitation["topic"] == {"slug": "returns", "name": "Returns"}
    assert offer_rule_id(invitation["offer"]) == rule.pk


def test_every_check_gets_its_own_offer(api: APIClient, rule: Any) -> None:
    first, second = (check(api).json()["invitation"]["offer"] for _ in range(2))
    assert first != second


def test_before_the_rules_time_it_says_when_to_ask_again(api: APIClient, rule: Any) -> None:
    assert check(api, seconds_on_page=3).json() == {"invitation": None, "check_again_in": 7}


def test_a_page_no_rule_fits_gets_nothing_and_no_retry(api: APIClient, rule: Any) -> None:
    assert check(api, path="/help/").json() == {"invitation": None, "check_again_in": None}


def test_a_check_sets_no_cookie_and_stores_nothing(
    api: APIClient, rule: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(2):  # the rules, the agents: reads only
        response = check(api)
    assert response.cookies == {}
    assert "Set-Cookie" not in response
    assert not InvitationTally.objects.exists()


def test_the_seconds_since_the_last_invitation_may_be_left_out(api: APIClient, rule: Any) -> None:
    body = visit_body()
    del body["seconds_since_last_invitation"]
    assert api.post(CHECK_URL, body, format="json").json()["invitation"]["rule"] == rule.pk


@pytest.mark.parametrize("rules", [1, 20])
def test_two_queries_whatever_the_number_of_rules(
    api: APIClient, django_assert_num_queries: Any, rules: int
) -> None:
    topics = [TopicFactory() for _ in range(min(rules, 5))]
    for topic in topics:
        staffed(topic)
    for n in range(rules):
        InvitationRuleFactory(topic=topics[n % len(topics)], url_patterns=f"/p{n}/*\n/shop/*")
    with django_assert_num_queries(2):
        assert check(api).json()["invitation"] is not None
    with django_assert_num_queries(1):  # nothing ready: the agents are not asked
        assert check(api, seconds_on_page=0).json()["check_again_in"] == 10


# --- Hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("path", 42),
        ("path", None),
        ("path", ["/shop/"]),
        ("path", "shop/boots"),
        ("path", "https://evil.example/shop/"),
        ("path", "/shop/\x00boots"),
        ("path", "/shop/\nboots"),
        ("path", "/" + "a" * 2000),
        ("seconds_on_page", "10"),
        ("seconds_on_page", 10.5),
        ("seconds_on_page", True),
        ("seconds_on_page", -1),
        ("seconds_on_page", 86_401),
        ("seconds_on_page", 10**30),
        ("seconds_on_page", None),
        ("pages_in_visit", 0),
        ("pages_in_visit", "2"),
        ("pages_in_visit", {"n": 2}),
        ("returning", "true"),
        ("returning", 1),
        ("returning", None),
        ("seconds_since_last_invitation", -5),
        ("seconds_since_last_invitation", "3600"),
        ("seconds_since_last_invitation", 2**31),
        ("seconds_since_last_invitation", False),
    ],
)
def test_wrong_values_are_400_naming_the_field(
    api: APIClient, rule: Any, field: str, value: object
) -> None:
    response = api.post(CHECK_URL, visit_body(**{field: value}), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]


@pytest.mark.parametrize("missing", ["path", "seconds_on_page", "pages_in_visit", "returning"])
def test_a_missing_field_is_400(api: APIClient, rule: Any, missing: str) -> None:
    body = visit_body()
    del body[missing]
    response = api.post(CHECK_URL, body, format="json")
    assert response.status_code == 400
    assert missing in response.json()["errors"]


@pytest.mark.parametrize("payload", ["[]", '"check"', "null", "42", "{", "{'path': '/'}"])
def test_a_body_that_is_not_a_json_object_is_400(api: APIClient, rule: Any, payload: str) -> None:
    response = api.post(CHECK_URL, payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "parse_error"}


def test_a_form_post_is_415(api: APIClient, rule: Any) -> None:
    response = api.post(CHECK_URL, "path=/shop/", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_an_oversized_body_is_a_400(api: APIClient, rule: Any) -> None:
    response = api.post(CHECK_URL, visit_body(path="/" + "a" * 1_000_000), format="json")
    assert response.status_code == 400
    assert "path" in response.json()["errors"]
    # Past DATA_UPLOAD_MAX_MEMORY_SIZE Django itself refuses the body before the view, for
    # every endpoint alike: the API's JSON 413 (helpdesk.views.bad_request).
    huge = api.post(CHECK_URL, visit_body(path="/" + "a" * 3_000_000), format="json")
    assert huge.status_code == 413
    assert huge.json()["code"] == "request_too_large"


def test_a_lone_surrogate_in_the_path_is_400(api: APIClient, rule: Any) -> None:
    raw = '{"path": "/\\ud800", "seconds_on_page": 1, "pages_in_visit": 1, "returning": false}'
    response = api.post(CHECK_URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert "path" in response.json()["errors"]


def test_markup_in_the_path_is_never_echoed(api: APIClient, rule: Any) -> None:
    evil = "/shop/<script>alert(1)</script>"
    response = check(api, path=evil)
    assert response.status_code == 200  # a path like any other: it matches /shop/*
    assert b"<script>" not in response.content
    rejected = check(api, path="/shop/<img src=x onerror=alert(1)>\x07")
    assert rejected.status_code == 400
    assert b"<img" not in rejected.content


def test_get_is_405(api: APIClient) -> None:
    assert api.get(CHECK_URL).status_code == 405


# --- Throttling and cross-origin -----------------------------------------------------------------


def test_too_many_checks_from_one_address_are_429(api: APIClient, rule: Any, settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public_invitation_check": "3/min",
        },
    }
    for _ in range(3):
        assert check(api).status_code == 200
    response = check(api)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    other = api.post(CHECK_URL, visit_body(), format="json", REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 200


def test_the_widgets_sites_may_ask_cross_origin(api: APIClient, rule: Any, settings) -> None:
    settings.HELPDESK_WIDGET_ORIGINS = ["https://shop.example.com"]
    preflight = api.options(CHECK_URL, HTTP_ORIGIN="https://shop.example.com")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Access-Control-Allow-Credentials" not in preflight
    foreign = api.post(CHECK_URL, visit_body(), format="json", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in foreign
