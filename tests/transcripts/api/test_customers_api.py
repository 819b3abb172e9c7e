"""/api/v1/customers/ and /api/v1/customers/<id>/: customers with their history (chats with their
rating, tickets). Supervisors read every customer; an agent the customers of chats they may
read and those who left a ticket, and within a history only the chats they may read."""

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api_support import assert_error, client_for, fresh_cache, query_count, result_ids
from tests.factories import (
    AgentFactory,
    ChatFactory,
    ClosedChatFactory,
    CustomerFactory,
    RatingFactory,
    SupervisorFactory,
    TicketFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


def test_a_supervisor_lists_every_customer_with_filters() -> None:
    ana = CustomerFactory(email="ana@example.com", external_id="crm-1")
    again = CustomerFactory(email="ANA@example.com")
    bob = CustomerFactory(email="bob@example.com")
    client = client_for(SupervisorFactory())

    assert {ana.pk, again.pk, bob.pk} <= set(result_ids(client.get(URL)))
    assert set(result_ids(client.get(URL, {"email": "Ana@Example.com"}))) == {ana.pk, again.pk}
    assert set(result_ids(client.get(URL, {"external_id": "crm-1"}))) == {ana.pk}
    assert set(result_ids(client.get(URL, {"external_id": "crm-2"}))) == set()


def test_an_agent_lists_customers_of_their_chats_and_of_tickets() -> None:
    agent = AgentFactory()
    served = ClosedChatFactory(agent=agent).customer
    waiting = ChatFactory().customer  # queued in a queue every agent without skills sees
    wrote = TicketFactory().customer
    ClosedChatFactory()  # a colleague's customer
    CustomerFactory()  # nobody's

    assert set(result_ids(client_for(agent).get(URL))) == {served.pk, waiting.pk, wrote.pk}


def test_a_customer_with_chats_ratings_and_tickets() -> None:
    topic = TopicFactory()
    agent = AgentFactory(first_name="Rui", last_name="Costa")
    customer = CustomerFactory(name="Ana", email="ana@example.com", external_id="crm-9")
    rated = ClosedChatFactory(customer=customer, agent=agent, topic=topic)
    RatingFactory(chat=rated, score=4, comment="Quick!")
    # The same person's earlier chat (each chat makes its own customer row) and a ticket.
    same_person = ClosedChatFactory(customer=CustomerFactory(email="ANA@example.com"))
    ticket = TicketFactory(customer=customer)

    row = client_for(SupervisorFactory()).get(f"{URL}{customer.pk}/").json()

    assert row["name"] == "Ana"
    assert row["external_id"] == "crm-9"
    assert [c["id"] for c in row["chats"]] == [same_person.pk, rated.pk]
    chat = row["chats"][1]
    assert chat["topic"]["id"] == topic.pk
    assert chat["status"] == "closed"
    assert chat["agent"] == {"id": agent.pk, "name": "Rui Costa"}
    assert chat["rating"]["score"] == 4 and chat["rating"]["comment"] == "Quick!"
    assert row["chats"][0]["rating"] is None
    assert [t["reference"] for t in row["tickets"]] == [ticket.reference]


def test_an_agent_sees_only_the_chats_they_may_read_in_a_history() -> None:
    agent = AgentFactory()
    customer = CustomerFactory(email="ana@example.com")
    mine = ClosedChatFactory(customer=customer, agent=agent)
    ClosedChatFactory(customer=CustomerFactory(email="ana@example.com"))  # a colleague's

    row = client_for(agent).get(f"{URL}{customer.pk}/").json()

    assert [c["id"] for c in row["chats"]] == [mine.pk]


def test_a_customer_an_agent_may_not_read_is_404() -> None:
    stranger = ClosedChatFactory().customer

    response = client_for(AgentFactory()).get(f"{URL}{stranger.pk}/")

    assert_error(response, 404, "customer_not_found")
    assert_error(client_for(AgentFactory()).get(f"{URL}999999/"), 404, "customer_not_found")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"email": "x" * 300 + "@example.com"}, "email"),
        ({"external_id": "a\nb"}, "external_id"),
        ({"external_id": "e" * 256}, "external_id"),
        ({"external_id": "a\x00b"}, "external_id"),
    ],
)
def test_bad_filters_are_400(params: dict[str, str], field: str) -> None:
    body = assert_error(client_for(SupervisorFactory()).get(URL, params), 400, "invalid")
    assert field in body["errors"]


def test_the_list_query_count_does_not_grow_with_the_rows() -> None:
    agent = AgentFactory()
    client = client_for(agent)
    ClosedChatFactory(agent=agent)
    client.get(URL)  # the token's first use records last_used_at
    one = query_count(client, URL)
    for _ in range(19):
        ClosedChatFactory(agent=agent)

    assert query_count(client, URL) == one
    assert len(result_ids(client.get(URL))) == 20


def test_the_detail_query_count_does_not_grow_with_the_history() -> None:
    agent = AgentFactory()
    client = client_for(agent)
    customer = CustomerFactory(email="ana@example.com")
    RatingFactory(chat=ClosedChatFactory(customer=customer, agent=agent))
    TicketFactory(customer=customer)
    url = f"{URL}{customer.pk}/"
    client.get(url)
    one = query_count(client, url)
    for _ in range(19):
        RatingFactory(chat=ClosedChatFactory(customer=customer, agent=agent, topic=TopicFactory()))
        TicketFactory(customer=customer, topic=TopicFactory())

    assert query_count(client, url) == one
    row = client.get(url).json()
    assert len(row["chats"]) == 20 and len(row["tickets"]) == 20


def test_pages_with_a_cursor() -> None:
    customers = [CustomerFactory() for _ in range(3)]
    client = client_for(SupervisorFactory())

    first = client.get(URL, {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert [r["id"] for r in first["results"] + second["results"]] == [
        c.pk for c in reversed(customers)
    ]


def test_html_in_a_name_comes_back_as_data() -> None:
    customer = CustomerFactory(name="<svg onload=alert(1)>")

    row = client_for(SupervisorFactory()).get(f"{URL}{customer.pk}/").json()

    assert row["name"] == "<svg onload=alert(1)>"


def test_customers_are_read_only() -> None:
    response = client_for(SupervisorFactory(), scope="write").post(URL, {}, format="json")

    assert_error(response, 405, "method_not_allowed")


def test_without_a_token_it_is_401() -> None:
    assert_error(APIClient().get(URL), 401, "not_authenticated")
