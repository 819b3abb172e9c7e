"""POST /api/v1/chats/: an integrator starts a chat on behalf of a customer, and gets what hands
the conversation over to the customer (their token, websocket and link)."""

from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
from django.utils import timezone

from chat.models import Chat, Message
from chat.selectors import chat_get_by_customer_token
from helpdesk.models import Customer
from routing.models import AgentProfile
from tests.api_support import assert_error, client_for, fresh_cache, post_json
from tests.factories import (
    AgentFactory,
    BusinessHoursFactory,
    CustomerBlockFactory,
    SupervisorFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/chats/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


@pytest.fixture
def topic() -> Any:
    return TopicFactory(slug="returns", name="Returns")


@pytest.fixture
def writer() -> Any:
    return client_for(AgentFactory(), scope="write")


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "topic": "returns",
        "name": "Ana Lima",
        "email": "ana@example.com",
        "message": "Where is my parcel?",
        **overrides,
    }


def assert_nothing_created() -> None:
    assert not Chat.objects.exists()
    assert not Customer.objects.exists()


def test_a_chat_starts_queued_with_the_customers_question(topic: Any, writer: Any) -> None:
    response = writer.post(URL, body(consent_transcript=True), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    chat = Chat.objects.select_related("customer").get()
    assert data["id"] == chat.pk
    assert data["status"] == "queued"
    assert data["topic"]["slug"] == "returns"
    assert data["customer"] == {
        "id": chat.customer_id,
        "name": "Ana Lima",
        "email": "ana@example.com",
    }
    assert chat.customer.consent_transcript is True
    kinds = list(Message.objects.filter(chat=chat).order_by("seq").values_list("kind", "body"))
    assert kinds[1] == ("customer", "Where is my parcel?")
    assert data["last_seq"] == 2


def test_the_answer_hands_the_chat_to_the_customer(topic: Any, writer: Any) -> None:
    data = writer.post(URL, body(), format="json").json()
    access = data["customer_access"]
    # The token opens exactly this chat, as the widget's does.
    chat = chat_get_by_customer_token(token=access["token"])
    assert chat is not None and chat.pk == data["id"]
    assert access["ws_url"] == f"ws://testserver/ws/chat/{access['token']}/"
    assert access["url"] == f"http://testserver/chat/#token={access['token']}"
    # Never again: reading the chat does not hand out the customer's credential.
    again = writer.get(f"{URL}{data['id']}/").json()
    assert "customer_access" not in again
    assert access["token"] not in str(again)


def test_a_chat_without_a_first_question_or_email(topic: Any, writer: Any) -> None:
    response = writer.post(URL, {"topic": "returns", "name": "Ana"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["customer"]["email"] == ""
    assert Message.objects.filter(kind="customer").count() == 0


def test_a_supervisor_token_starts_chats_too(topic: Any) -> None:
    response = client_for(SupervisorFactory(), scope="write").post(URL, body(), format="json")
    assert response.status_code == 201


def test_an_agent_may_start_a_chat_in_a_queue_they_do_not_follow(writer: Any) -> None:
    # The answer is the creator's to read even if their token cannot list that queue.
    agent = AgentFactory()
    AgentProfile.objects.create(user=agent).topics.set([TopicFactory()])
    TopicFactory(slug="returns")
    response = client_for(agent, scope="write").post(URL, body(), format="json")
    assert response.status_code == 201
    assert response.json()["customer_access"]["token"]


def test_a_read_token_starts_nothing(topic: Any) -> None:
    assert_error(client_for(scope="read").post(URL, body(), format="json"), 403, "read_only_token")
    assert_nothing_created()


def test_a_blocked_customer_is_refused_politely(topic: Any, writer: Any) -> None:
    CustomerBlockFactory(email="ana@example.com")
    response = writer.post(URL, body(email="ANA@example.com"), format="json")
    assert_error(response, 403, "blocked")
    assert_nothing_created()


def test_a_closed_topic_is_409_with_its_opening(
    topic: Any, writer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sunday noon UTC; the topic opens on Mondays 09:00 UTC.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    BusinessHoursFactory(topic=topic, weekday=0, opens=time(9), closes=time(17))
    body_ = assert_error(writer.post(URL, body(), format="json"), 409, "topic_closed")
    assert body_["opens_at"] == "2026-03-30T09:00:00+00:00"
    assert_nothing_created()


def test_an_unknown_or_inactive_topic_is_400(writer: Any) -> None:
    TopicFactory(slug="old", is_active=False)
    for slug in ("nowhere", "old"):
        response = writer.post(URL, body(topic=slug), format="json")
        assert assert_error(response, 400, "invalid")["errors"] == {"topic": ["No such topic."]}
    assert_nothing_created()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"topic": 5}, "topic", id="topic-number"),
        pytest.param({"topic": "re turns"}, "topic", id="topic-not-a-slug"),
        pytest.param({"topic": None}, "topic", id="topic-null"),
        pytest.param({"name": ""}, "name", id="name-empty"),
        pytest.param({"name": "   "}, "name", id="name-blank"),
        pytest.param({"name": 42}, "name", id="name-number"),
        pytest.param({"name": ["Ana"]}, "name", id="name-list"),
        pytest.param({"name": "x" * 101}, "name", id="name-too-long"),
        pytest.param({"name": "Ana\x00"}, "name", id="name-nul"),
        pytest.param({"name": "Ana\ud800"}, "name", id="name-surrogate"),
        pytest.param({"email": "not-an-email"}, "email", id="email"),
        pytest.param({"email": "a" * 250 + "@x.com"}, "email", id="email-too-long"),
        pytest.param({"message": 7}, "message", id="message-number"),
        pytest.param({"consent_transcript": "yes"}, "consent_transcript", id="consent-text"),
        pytest.param({"consent_marketing": 1}, "consent_marketing", id="consent-number"),
        pytest.param({"timezone": "Mars/Olympus"}, "timezone", id="timezone"),
    ],
)
def test_a_bad_field_is_400_and_creates_nothing(
    topic: Any, writer: Any, overrides: dict[str, Any], field: str
) -> None:
    body_ = assert_error(post_json(writer, URL, body(**overrides)), 400, "invalid")
    assert field in body_["errors"], body_
    assert_nothing_created()


@pytest.mark.parametrize(
    ("message", "code"),
    [
        pytest.param("x" * 4001, "body_too_long", id="too-long"),
        pytest.param("hi\x00", "body_invalid", id="nul"),
        pytest.param("hi \ud800", "body_invalid", id="surrogate"),
    ],
)
def test_the_first_question_follows_the_message_rules(
    topic: Any, writer: Any, message: str, code: str
) -> None:
    assert_error(post_json(writer, URL, body(message=message)), 400, code)
    assert_nothing_created()


def test_html_is_stored_as_text(topic: Any, writer: Any) -> None:
    payload = "<script>alert('x')</script>"
    data = writer.post(URL, body(name=payload, message=payload), format="json").json()
    assert data["customer"]["name"] == payload
    assert Message.objects.filter(kind="customer").get().body == payload


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        pytest.param("{not json", "application/json", 400, "parse_error", id="malformed"),
        pytest.param("[1, 2]", "application/json", 400, "invalid", id="a-list"),
        pytest.param("name=Ana", "application/x-www-form-urlencoded", 415, None, id="form"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    topic: Any, writer: Any, raw: str, content_type: str, status: int, code: str | None
) -> None:
    response = writer.generic("POST", URL, raw, content_type=content_type)
    assert_error(response, status, code or "unsupported_media_type")
    assert_nothing_created()
