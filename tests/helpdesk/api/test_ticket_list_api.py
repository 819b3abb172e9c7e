"""GET /api/v1/tickets/ and /api/v1/tickets/<id>/: the messages customers left, filtered, paged,
with their replies; team-wide for every staff token, as in the console."""

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.models import Ticket
from tests.api_support import assert_error, client_for, fresh_cache, query_count, result_ids
from tests.factories import (
    AgentFactory,
    CustomerFactory,
    TicketFactory,
    TicketReplyFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


def test_a_row_shows_the_ticket_its_topic_and_customer() -> None:
    customer = CustomerFactory(name="Ana Lima", email="ana@example.com")
    ticket = TicketFactory(customer=customer, body="Where is my parcel?")

    [row] = client_for(AgentFactory()).get(URL).json()["results"]

    assert row["id"] == ticket.pk
    assert row["reference"] == ticket.reference
    assert row["status"] == "open"
    assert row["topic"] == {
        "id": ticket.topic.pk,
        "slug": ticket.topic.slug,
        "name": ticket.topic.name,
    }
    assert row["customer"] == {"id": customer.pk, "name": "Ana Lima", "email": "ana@example.com"}
    assert row["email"] == "ana@example.com"
    assert row["body"] == "Where is my parcel?"
    assert row["chat"] is None
    assert row["answered_at"] is None and row["closed_at"] is None


def test_filters_by_status_email_reference_and_topic() -> None:
    topic = TopicFactory()
    open_ = TicketFactory(email="ana@example.com", topic=topic)
    answered = TicketFactory(email="bob@example.com", status=Ticket.Status.ANSWERED)
    client = client_for(AgentFactory())

    assert result_ids(client.get(URL, {"status": "answered"})) == [answered.pk]
    # Emails compare ignoring case.
    assert result_ids(client.get(URL, {"email": "ANA@example.com"})) == [open_.pk]
    assert result_ids(client.get(URL, {"reference": answered.reference.lower()})) == [answered.pk]
    assert result_ids(client.get(URL, {"topic": topic.pk})) == [open_.pk]
    assert result_ids(client.get(URL, {"status": "closed"})) == []


def test_filters_by_creation_dates() -> None:
    now = timezone.now()
    old, mid, new = (TicketFactory() for _ in range(3))
    for ticket, days in ((old, 30), (mid, 10), (new, 1)):
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now - datetime.timedelta(days=days))
    client = client_for(AgentFactory())
    since = (now - datetime.timedelta(days=20)).isoformat()
    before = (now - datetime.timedelta(days=5)).isoformat()

    assert result_ids(client.get(URL, {"created_after": since})) == [new.pk, mid.pk]
    assert result_ids(client.get(URL, {"created_before": before})) == [mid.pk, old.pk]
    assert result_ids(client.get(URL, {"created_after": since, "created_before": before})) == [
        mid.pk
    ]
    # A date alone is its midnight (in the site's zone).
    day = (now - datetime.timedelta(days=20)).date().isoformat()
    assert result_ids(client.get(URL, {"created_after": day})) == [new.pk, mid.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"reference": "HD-<script>"}, "reference"),
        ({"topic": "abc"}, "topic"),
        ({"topic": "0"}, "topic"),
        ({"topic": str(2**63)}, "topic"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": "2024-02-30"}, "created_after"),
        ({"created_after": "2024-05-02", "created_before": "2024-05-01"}, "created_before"),
        ({"email": "ana\x00@example.com"}, "email"),
    ],
)
def test_bad_filters_are_400_with_the_field(params: dict[str, str], field: str) -> None:
    response = client_for(AgentFactory()).get(URL, params)

    body = assert_error(response, 400, "invalid")
    assert field in body["errors"]


def test_pages_with_a_cursor() -> None:
    tickets = [TicketFactory() for _ in range(5)]
    client = client_for(AgentFactory())

    first = client.get(URL, {"limit": 3}).json()
    second = client.get(first["next"]).json()

    assert [r["id"] for r in first["results"]] == [t.pk for t in reversed(tickets)][:3]
    assert [r["id"] for r in second["results"]] == [tickets[1].pk, tickets[0].pk]
    assert second["next"] is None


def test_the_query_count_does_not_grow_with_the_rows() -> None:
    client = client_for(AgentFactory())
    TicketFactory()
    client.get(URL)  # the token's first use records last_used_at
    one = query_count(client, URL)
    for _ in range(19):
        TicketFactory()

    assert query_count(client, URL) == one


def test_a_ticket_with_its_replies_oldest_first() -> None:
    ticket = TicketFactory(status=Ticket.Status.ANSWERED)
    agent = AgentFactory(first_name="Rui", last_name="Costa")
    first = TicketReplyFactory(ticket=ticket, author=agent, body="On its way.")
    second = TicketReplyFactory(ticket=ticket, author=agent, body="Delivered?")

    row = client_for(AgentFactory()).get(f"{URL}{ticket.pk}/").json()

    assert row["reference"] == ticket.reference
    assert [r["id"] for r in row["replies"]] == [first.pk, second.pk]
    assert row["replies"][0]["author"] == {"id": agent.pk, "name": "Rui Costa"}
    assert row["replies"][0]["body"] == "On its way."
    assert row["replies"][0]["sent_at"] is None


def test_the_detail_query_count_does_not_grow_with_the_replies() -> None:
    client = client_for(AgentFactory())
    ticket = TicketFactory()
    TicketReplyFactory(ticket=ticket)
    url = f"{URL}{ticket.pk}/"
    client.get(url)
    one = query_count(client, url)
    for _ in range(19):
        TicketReplyFactory(ticket=ticket, author=AgentFactory())

    assert query_count(client, url) == one


def test_an_unknown_ticket_is_404() -> None:
    assert_error(client_for(AgentFactory()).get(f"{URL}424242/"), 404, "not_found")


def test_html_a_customer_typed_comes_back_as_data() -> None:
    payload = "<script>alert('x')</script>"
    TicketFactory(body=payload, customer=CustomerFactory(name=payload))

    response = client_for(AgentFactory()).get(URL)

    assert response["Content-Type"] == "application/json"
    [row] = response.json()["results"]
    assert row["body"] == payload
    assert row["customer"]["name"] == payload


def test_without_a_token_it_is_401() -> None:
    assert_error(APIClient().get(URL), 401, "not_authenticated")


def test_a_revoked_token_is_401() -> None:
    from helpdesk.api_tokens import api_token_revoke
    from tests.factories import api_token_for

    token, raw = api_token_for(AgentFactory())
    api_token_revoke(token_id=token.pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert_error(client.get(URL), 401, "token_revoked")
