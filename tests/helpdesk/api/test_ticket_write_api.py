"""POST /api/v1/tickets/ (a message left on behalf of a customer) and
POST /api/v1/tickets/<id>/replies/ (an answer): through the console's services, so the customer
gets the same emails from the same tasks."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from helpdesk.models import Customer, Ticket, TicketReply
from tests.api_support import assert_error, client_for, fresh_cache
from tests.factories import (
    AgentFactory,
    CustomerBlockFactory,
    CustomerFactory,
    SupervisorFactory,
    TicketFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> Iterator[None]:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield from fresh_cache(settings)


def _new(topic: Any, **fields: Any) -> dict[str, Any]:
    return {
        "topic": topic.pk if topic is not None else None,
        "email": "ana@example.com",
        "name": "Ana Lima",
        "body": "My parcel never came.",
        **fields,
    }


# --- Create -----------------------------------------------------------------------------------


def test_a_message_left_for_a_new_customer_is_confirmed_by_email(
    django_capture_on_commit_callbacks: Any,
) -> None:
    topic = TopicFactory()
    client = client_for(AgentFactory(), scope="write")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _new(topic), format="json")

    assert response.status_code == 201, response.content
    row = response.json()
    ticket = Ticket.objects.get(pk=row["id"])
    assert row["reference"] == ticket.reference
    assert row["status"] == "open"
    assert row["replies"] == []
    assert ticket.customer.name == "Ana Lima"
    assert ticket.email == "ana@example.com"
    [sent] = mail.outbox
    assert sent.to == ["ana@example.com"]
    assert ticket.reference in sent.subject


def test_a_message_for_an_existing_customer_keeps_them() -> None:
    customer = CustomerFactory()
    client = client_for(AgentFactory(), scope="write")

    response = client.post(URL, _new(TopicFactory(), customer=customer.pk, name=""), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] == customer.pk
    assert Customer.objects.count() == 1


def test_a_blocked_email_is_refused() -> None:
    CustomerBlockFactory(email="ana@example.com")
    client = client_for(AgentFactory(), scope="write")

    response = client.post(URL, _new(TopicFactory()), format="json")

    assert_error(response, 403, "blocked")
    assert not Ticket.objects.exists()


def test_a_read_token_may_not_create() -> None:
    response = client_for(AgentFactory(), scope="read").post(
        URL, _new(TopicFactory()), format="json"
    )

    assert_error(response, 403, "read_only_token")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"topic": 999999}, "topic"),
        ({"topic": "1"}, "topic"),
        ({"topic": True}, "topic"),
        ({"customer": 999999}, "customer"),
        ({"email": "nobody"}, "email"),
        ({"name": ""}, "name"),
        ({"name": 42}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"body": ["a list"]}, "body"),
        ({"body": "x" * 4001}, "body"),
    ],
)
def test_bad_fields_are_400(fields: dict[str, Any], field: str) -> None:
    topic = TopicFactory()
    if fields.get("topic") == "1":
        fields["topic"] = str(topic.pk)  # the right id, as a string: refused all the same
    client = client_for(AgentFactory(), scope="write")

    response = client.post(URL, {**_new(topic), **fields}, format="json")

    body = assert_error(response, 400, "invalid")
    assert field in body["errors"]
    assert not Ticket.objects.exists()


def test_a_lone_surrogate_is_400() -> None:
    # JSON "\ud800" is valid JSON but no text: refused before the database sees it.
    client = client_for(AgentFactory(), scope="write")
    raw = json.dumps(_new(TopicFactory())).replace("My parcel", "\\ud800 parcel")

    response = client.post(URL, raw, content_type="application/json")

    body = assert_error(response, 400, "invalid")
    assert "body" in body["errors"]


@pytest.mark.parametrize(("body", "code"), [("   ", "body_empty"), ("a\x00b", "invalid")])
def test_an_empty_or_nul_body_is_refused(body: str, code: str) -> None:
    client = client_for(AgentFactory(), scope="write")

    response = client.post(URL, _new(TopicFactory(), body=body), format="json")

    assert_error(response, 400, code)


def test_malformed_json_is_400() -> None:
    client = client_for(AgentFactory(), scope="write")

    response = client.post(URL, '{"topic": ', content_type="application/json")

    assert_error(response, 400, "parse_error")


def test_a_body_that_is_not_an_object_is_400() -> None:
    client = client_for(AgentFactory(), scope="write")

    response = client.post(URL, [1, 2], format="json")

    body = assert_error(response, 400, "invalid")
    assert "non_field_errors" in body["errors"]


def test_html_is_stored_and_returned_as_typed() -> None:
    payload = '<img src=x onerror="alert(1)">'
    client = client_for(AgentFactory(), scope="write")

    response = client.post(URL, _new(TopicFactory(), body=payload, name=payload), format="json")

    assert response.status_code == 201
    assert response.json()["body"] == payload
    assert response.json()["customer"]["name"] == payload


# --- Reply ------------------------------------------------------------------------------------


def test_an_answer_is_emailed_and_the_ticket_answered(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = TicketFactory(email="ana@example.com")
    agent = AgentFactory(first_name="Rui")
    client = client_for(agent, scope="write")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{URL}{ticket.pk}/replies/", {"body": "It ships today."}, format="json"
        )

    assert response.status_code == 201, response.content
    row = response.json()
    assert row["author"]["id"] == agent.pk
    assert row["body"] == "It ships today."
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ANSWERED
    [sent] = mail.outbox
    assert sent.to == ["ana@example.com"]
    assert "It ships today." in sent.body
    assert TicketReply.objects.get(pk=row["id"]).sent_at is not None


def test_a_closed_ticket_cannot_be_answered() -> None:
    ticket = TicketFactory(status=Ticket.Status.CLOSED)
    client = client_for(AgentFactory(), scope="write")

    response = client.post(f"{URL}{ticket.pk}/replies/", {"body": "Hello"}, format="json")

    assert_error(response, 409, "ticket_closed")


def test_a_supervisor_who_is_not_an_agent_cannot_answer() -> None:
    ticket = TicketFactory()
    client = client_for(SupervisorFactory(), scope="write")

    response = client.post(f"{URL}{ticket.pk}/replies/", {"body": "Hello"}, format="json")

    assert_error(response, 403, "forbidden")
    assert not TicketReply.objects.exists()


def test_a_read_token_may_not_answer() -> None:
    ticket = TicketFactory()
    client = client_for(AgentFactory(), scope="read")

    response = client.post(f"{URL}{ticket.pk}/replies/", {"body": "Hello"}, format="json")

    assert_error(response, 403, "read_only_token")


def test_answering_an_unknown_ticket_is_404() -> None:
    client = client_for(AgentFactory(), scope="write")

    response = client.post(f"{URL}999999/replies/", {"body": "Hello"}, format="json")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"body": 7}, 400, "invalid"),
        ({"body": "y" * 4001}, 400, "invalid"),
        ({"body": "\n\t "}, 400, "body_empty"),
    ],
)
def test_bad_answers_are_400(payload: dict[str, Any], status: int, code: str) -> None:
    ticket = TicketFactory()
    client = client_for(AgentFactory(), scope="write")

    response = client.post(f"{URL}{ticket.pk}/replies/", payload, format="json")

    assert_error(response, status, code)
    assert not TicketReply.objects.exists()
