"""POST /api/v1/public/tickets/: leave a message instead of chatting. Anonymous, throttled per
client address, and every hostile input is a 4xx JSON answer that stores nothing."""

from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from helpdesk.models import Customer, Ticket
from tests.factories import BusinessHoursFactory, TopicFactory

URL = "/api/v1/public/tickets/"
SCOPE = "public_ticket_create"

pytestmark = pytest.mark.django_db


def throttle_key(ident: str) -> str:
    return ScopedRateThrottle.cache_format % {"scope": SCOPE, "ident": ident}


@pytest.fixture(autouse=True)
def _fresh_throttle(settings) -> Iterator[None]:
    # Only our keys: the cache may be a Redis shared with other processes, never flushed.
    keys = [throttle_key(ip) for ip in ("127.0.0.1", "10.0.0.2")]
    cache.delete_many(keys)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    cache.delete_many(keys)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def topic():
    return TopicFactory(slug="returns", name="Returns")


def valid(**overrides: object) -> dict[str, object]:
    return {
        "topic": "returns",
        "name": "Ana Lima",
        "email": "ana@example.com",
        "body": "My parcel never came.",
        **overrides,
    }


def assert_nothing_stored() -> None:
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()
    assert mail.outbox == []


def test_a_message_is_stored_and_its_reference_returned(
    api, topic, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, valid(), format="json")
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"reference"}
    ticket = Ticket.objects.get()
    assert body["reference"] == ticket.reference
    assert (ticket.topic, ticket.email, ticket.body) == (
        topic,
        "ana@example.com",
        "My parcel never came.",
    )
    assert ticket.customer.name == "Ana Lima"
    # The confirmation with the reference went out.
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    assert ticket.reference in mail.outbox[0].subject


def test_a_closed_topic_takes_messages(api, topic) -> None:
    # Open one minute a week, almost always closed: exactly when messages are left.
    BusinessHoursFactory(topic=topic)
    assert api.post(URL, valid(), format="json").status_code == 201


def test_html_is_stored_as_text(api, topic) -> None:
    body = "<img src=x onerror=alert(1)> <script>alert('x')</script>"
    name = "<b>Ana</b>"
    assert api.post(URL, valid(body=body, name=name), format="json").status_code == 201
    ticket = Ticket.objects.get()
    assert (ticket.body, ticket.customer.name) == (body, name)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"topic": "nope"}, "topic"),
        ({"topic": "../admin"}, "topic"),
        ({"topic": 42}, "topic"),
        ({"topic": None}, "topic"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": ["Ana"]}, "name"),
        ({"name": {"first": "Ana"}}, "name"),
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "ana@example.com\r\nBcc: all@example.com"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
        ({"email": 7}, "email"),
        ({"body": "x" * 4001}, "body"),
        ({"body": ""}, "body"),
        ({"body": 123}, "body"),
        ({"body": ["a", "b"]}, "body"),
        ({"body": None}, "body"),
        ({"body": "nul\x00byte"}, "body"),
    ],
)
def test_invalid_fields_are_400_with_the_field_named(api, topic, overrides, field) -> None:
    response = api.post(URL, valid(**overrides), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"], body
    assert_nothing_stored()


@pytest.mark.parametrize("missing", ["topic", "name", "email", "body"])
def test_every_field_is_required(api, topic, missing: str) -> None:
    data = valid()
    del data[missing]
    response = api.post(URL, data, format="json")
    assert response.status_code == 400
    assert missing in response.json()["errors"]
    assert_nothing_stored()


def test_a_body_of_blanks_is_body_empty(api, topic) -> None:
    response = api.post(URL, valid(body="  \n\t "), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "body_empty"
    assert_nothing_stored()


def test_an_inactive_topic_is_no_topic(api) -> None:
    TopicFactory(slug="returns", is_active=False)
    response = api.post(URL, valid(), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"topic": ["No such topic."]}
    assert_nothing_stored()


@pytest.mark.parametrize("payload", [b"{", b"[]", b'"text"', b"null", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(api, topic, payload: bytes) -> None:
    response = api.post(URL, payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"parse_error", "invalid"}
    assert_nothing_stored()


def test_a_form_post_is_415(api, topic) -> None:
    response = api.post(URL, valid(), format="multipart")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert_nothing_stored()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_only_post(api, method: str) -> None:
    response = getattr(api, method)(URL)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_unknown_fields_are_ignored_and_cannot_set_the_ticket(api, topic) -> None:
    response = api.post(
        URL,
        valid(status="closed", reference="HD-AAAAAA", chat=1, customer=1),
        format="json",
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.reference != "HD-AAAAAA"
    assert ticket.chat_id is None


def test_a_session_cookie_does_not_matter_and_no_csrf_is_needed(topic) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "forged"
    assert client.post(URL, valid(), format="json").status_code == 201


# --- Throttling ---------------------------------------------------------------------------------


@pytest.fixture
def three_an_hour(settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            SCOPE: "3/hour",
        },
    }


def test_the_default_rate_is_ten_an_hour(settings) -> None:
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][SCOPE] == "10/hour"


def test_too_many_messages_from_one_address_are_429(api, topic, three_an_hour) -> None:
    for _ in range(3):
        assert api.post(URL, valid(), format="json").status_code == 201
    response = api.post(URL, valid(), format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 3600
    assert Ticket.objects.count() == 3


def test_the_throttle_counts_per_address(api, topic, three_an_hour) -> None:
    for _ in range(3):
        api.post(URL, valid(), format="json")
    other = api.post(URL, valid(), format="json", REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 201


def test_a_forged_forwarded_for_header_does_not_reset_the_throttle(
    api, topic, three_an_hour
) -> None:
    for n in range(3):
        api.post(URL, valid(), format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = api.post(URL, valid(), format="json", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


def test_the_chat_start_allowance_is_separate(api, topic, three_an_hour) -> None:
    for _ in range(3):
        api.post(URL, valid(), format="json")
    cache.delete(
        ScopedRateThrottle.cache_format % {"scope": "public_chat_start", "ident": "127.0.0.1"}
    )
    started = api.post("/api/v1/public/chats/", {"name": "Ana", "topic": "returns"}, format="json")
    assert started.status_code == 201


# --- Cross-origin (the widget) -------------------------------------------------------------------


def test_an_allowed_widget_origin_may_post(api, topic, settings) -> None:
    settings.HELPDESK_WIDGET_ORIGINS = ["https://shop.example.com"]
    preflight = api.options(URL, HTTP_ORIGIN="https://shop.example.com")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://shop.example.com"
    response = api.post(URL, valid(), format="json", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response
