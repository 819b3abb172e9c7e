"""POST /api/v1/public/chats/: a customer opens a chat and gets the token to its socket."""

import json

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from chat.models import MESSAGE_MAX_LENGTH, Chat, Message
from chat.selectors import chat_get_by_customer_token
from helpdesk.models import Customer
from tests.chat.api.conftest import throttle_keys
from tests.chat.consumers.wsutil import Sockets, pong_next, receive
from tests.factories import TopicFactory

URL = "/api/v1/public/chats/"


def valid(**overrides) -> dict:
    return {
        "name": "Ana Lima",
        "email": "ana@example.com",
        "topic": "returns",
        "message": "Where is my parcel?",
        "consent_transcript": True,
        "consent_marketing": False,
        **overrides,
    }


@pytest.fixture
def topic(db):
    return TopicFactory(slug="returns", name="Returns")


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid" and body["detail"]
    assert set(body["errors"]) == set(fields), body
    assert all(isinstance(m, str) for msgs in body["errors"].values() for m in msgs)
    assert Chat.objects.count() == 0 and Customer.objects.count() == 0
    return body


# --- Success ---------------------------------------------------------------------------------


def test_a_chat_is_opened_and_the_answer_has_its_shape(api, topic) -> None:
    response = api.post(URL, valid(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "token", "ws_url", "status"}
    chat = Chat.objects.get()
    assert body["id"] == chat.pk and body["status"] == "queued"
    assert body["ws_url"] == f"ws://testserver/ws/chat/{body['token']}/"
    assert chat_get_by_customer_token(token=body["token"]).pk == chat.pk

    assert chat.topic == topic
    customer = chat.customer
    assert (customer.name, customer.email) == ("Ana Lima", "ana@example.com")
    assert (customer.consent_transcript, customer.consent_marketing) == (True, False)
    assert list(chat.messages.values_list("kind", "body")) == [
        ("system", "Hi Ana, thanks for reaching out. An agent will be with you shortly."),
        ("customer", "Where is my parcel?"),
    ]


def test_over_https_the_socket_url_is_wss(api, topic) -> None:
    response = api.post(URL, valid(), format="json", secure=True)
    assert response.json()["ws_url"].startswith("wss://testserver/ws/chat/")


def test_only_name_and_topic_are_required(api, topic) -> None:
    response = api.post(URL, {"name": "Ana", "topic": "returns"}, format="json")
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert customer.email == "" and not customer.consent_transcript
    assert list(Message.objects.values_list("kind", flat=True)) == ["system"]


def test_consents_without_an_email_are_ignored(api, topic) -> None:
    response = api.post(
        URL, valid(email="", consent_transcript=True, consent_marketing=True), format="json"
    )
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert not customer.consent_transcript and not customer.consent_marketing


def test_html_in_the_name_is_stored_verbatim(api, topic) -> None:
    name = '<img src=x onerror="alert(1)">'
    assert api.post(URL, valid(name=name), format="json").status_code == 201
    assert Customer.objects.get().name == name


def test_the_name_is_trimmed_and_the_message_is_kept_as_typed(api, topic) -> None:
    api.post(URL, valid(name="  Ana  ", message="  two  spaces  "), format="json")
    assert Customer.objects.get().name == "Ana"
    assert Message.objects.get(kind="customer").body == "  two  spaces  "


def test_a_first_message_of_exactly_4000_characters_is_accepted(api, topic) -> None:
    body = "x" * MESSAGE_MAX_LENGTH
    assert api.post(URL, valid(message=body), format="json").status_code == 201
    assert Message.objects.get(kind="customer").body == body


def test_opening_a_chat_costs_a_fixed_number_of_queries(
    api, topic, django_assert_num_queries
) -> None:
    # topic, customer, chat, 2 messages, chat update, event, staff preview (+ savepoint pair);
    # then the block check, the customer's browser and address, and the savepoint pair of the
    # service wrapping chat_start (chat.blocking.chat_start_for_visitor)
    with django_assert_num_queries(14):
        assert api.post(URL, valid(), format="json").status_code == 201


@pytest.mark.django_db(transaction=True)
async def test_the_returned_token_opens_the_customer_socket() -> None:
    await database_sync_to_async(TopicFactory)(slug="returns")
    response = await database_sync_to_async(APIClient().post)(URL, valid(), format="json")
    assert response.status_code == 201
    body = response.json()
    scheme_and_host = "ws://testserver"
    assert body["ws_url"].startswith(scheme_and_host)
    sockets = Sockets()
    try:
        comm = sockets.communicator(body["ws_url"].removeprefix(scheme_and_host))
        connected, _ = await comm.connect()
        assert connected
        first = await receive(comm)
        assert (first["type"], first["id"], first["status"]) == ("chat", body["id"], "queued")
        assert first["last_seq"] == 2
        await pong_next(comm)
    finally:
        await sockets.close_all()


# --- Refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "topic"])
def test_required_fields(api, topic, field: str) -> None:
    data = valid()
    del data[field]
    body = assert_invalid(api.post(URL, data, format="json"), field)
    assert body["errors"][field] == ["This field is required."]


def test_all_field_errors_are_reported_at_once(api, topic) -> None:
    response = api.post(URL, {"email": "nope", "consent_marketing": "maybe"}, format="json")
    assert_invalid(response, "name", "topic", "email", "consent_marketing")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 101),
        ("name", None),
        ("name", True),
        ("name", ["Ana"]),
        ("name", {"first": "Ana"}),
        ("name", "Ana\x00"),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("email", "x" * 250 + "@example.com"),
        ("email", ["ana@example.com"]),
        ("topic", ""),
        ("topic", "no such/slug"),
        ("topic", "x" * 81),
        ("topic", ["returns"]),
        ("message", "x" * (MESSAGE_MAX_LENGTH + 1)),
        ("message", "a\x00b"),
        ("message", ["hi"]),
        ("message", {"body": "hi"}),
        ("consent_transcript", "maybe"),
        ("consent_transcript", [True]),
        ("consent_marketing", {"yes": True}),
        ("consent_marketing", None),
    ],
    ids=repr,
)
def test_bad_fields_are_400_with_field_errors(api, topic, field: str, value) -> None:
    assert_invalid(api.post(URL, valid(**{field: value}), format="json"), field)


@pytest.mark.parametrize("field", ["name", "message"])
def test_text_that_is_not_valid_unicode_is_a_field_error(api, topic, field: str) -> None:
    raw = json.dumps(valid()).replace(
        '"Ana Lima"' if field == "name" else '"Where is my parcel?"', '"a\\ud800b"'
    )
    response = api.post(URL, raw, content_type="application/json")
    assert_invalid(response, field)


def test_an_unknown_topic_is_a_field_error(api, topic) -> None:
    body = assert_invalid(api.post(URL, valid(topic="billing"), format="json"), "topic")
    assert body["errors"]["topic"] == ["No such topic."]


def test_an_inactive_topic_is_a_field_error(api, db) -> None:
    TopicFactory(slug="returns", is_active=False)
    assert_invalid(api.post(URL, valid(), format="json"), "topic")


@pytest.mark.parametrize(
    "raw", ['{"name": "Ana", ', "not json", "", "\xff", '{"name": NaN}'], ids=repr
)
def test_a_malformed_json_body_is_400_json(api, topic, raw: str) -> None:
    response = api.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] in {"parse_error", "invalid"}
    assert Chat.objects.count() == 0


@pytest.mark.parametrize("raw", ["[]", '"Ana"', "42", "null"])
def test_a_json_body_that_is_not_an_object_is_400_json(api, topic, raw: str) -> None:
    response = api.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert Chat.objects.count() == 0


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/x-www-form-urlencoded", "name=Ana&topic=returns"),
        ("multipart/form-data; boundary=xyz", "--xyz--"),
        ("text/plain", '{"name": "Ana", "topic": "returns"}'),
        ("application/xml", "<chat/>"),
    ],
)
def test_a_body_that_is_not_json_is_415_json(api, topic, content_type: str, payload: str) -> None:
    response = api.post(URL, payload, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert Chat.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405_json(api, topic, method: str) -> None:
    response = getattr(api, method)(URL)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path", ["/api/v1/public/nope/", "/api/v1/", "/api/v2/public/chats/", "/api/anything"]
)
def test_an_unknown_api_path_is_404_json(api, db, path: str) -> None:
    for method in (api.get, api.post):
        response = method(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"code": "not_found", "detail": "No such endpoint."}


def test_the_endpoint_is_anonymous_and_needs_no_csrf_token(topic) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, valid(), content_type="application/json")
    assert response.status_code == 201


# --- Throttling --------------------------------------------------------------------------------


@pytest.fixture
def two_per_minute(settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public_chat_start": "2/min",
        },
    }


def test_too_many_chats_from_one_address_is_429_json(api, topic, two_per_minute) -> None:
    for _ in range(2):
        assert api.post(URL, valid(), format="json").status_code == 201
    response = api.post(URL, valid(), format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60
    assert Chat.objects.count() == 2


def test_another_address_has_its_own_allowance(api, topic, two_per_minute) -> None:
    for _ in range(2):
        api.post(URL, valid(), format="json")
    try:
        response = api.post(URL, valid(), format="json", REMOTE_ADDR="10.1.2.3")
        assert response.status_code == 201
    finally:
        cache.delete_many(throttle_keys("10.1.2.3"))


def test_a_forged_x_forwarded_for_does_not_reset_the_allowance(api, topic, two_per_minute) -> None:
    # Without proxies configured (HELPDESK_NUM_PROXIES=0) the client's own header is not
    # trusted: otherwise anyone could open unlimited chats by rotating it.
    codes = [
        api.post(URL, valid(), format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(4)
    ]
    assert codes == [201, 201, 429, 429]
