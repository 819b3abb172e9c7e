"""The supervisors' chat list: who, what, how long they waited, how long it took, the rating and
transfers, in a constant number of queries whatever the page holds."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import ChatEvent
from tests.factories import (
    PASSWORD,
    AgentFactory,
    ChatFactory,
    ClosedChatFactory,
    CustomerFactory,
    RatingFactory,
    SupervisorFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client() -> Client:
    client = Client()
    client.login(username=SupervisorFactory().username, password=PASSWORD)
    return client


def handled_chat(**kwargs):  # type: ignore[no-untyped-def]
    """Created 10 min ago, assigned 8 min ago, answered after 3 min, closed 2 min ago."""
    now = timezone.now()
    chat = ClosedChatFactory(
        first_agent_response_at=now - timedelta(minutes=7),
        closed_at=now - timedelta(minutes=2),
        transfer_count=2,
        **kwargs,
    )
    type(chat).objects.filter(pk=chat.pk).update(created_at=now - timedelta(minutes=10))
    event = ChatEvent.objects.create(chat=chat, kind=ChatEvent.Kind.ASSIGNED)
    ChatEvent.objects.filter(pk=event.pk).update(created_at=now - timedelta(minutes=8))
    return chat


def test_columns_show_wait_duration_rating_and_transfers(supervisor_client: Client) -> None:
    chat = handled_chat(
        customer=CustomerFactory(name="Ana Lima"),
        topic=TopicFactory(name="Returns"),
        agent=AgentFactory(username="bea"),
    )
    RatingFactory(chat=chat, score=4)

    html = supervisor_client.get("/admin/chat/chat/").content.decode()

    for text in ("Ana Lima", "Returns", "bea", "Closed", "3 min 00 s", "6 min 00 s", "4/5"):
        assert text in html
    assert '<td class="field-transfers">2</td>' in html


def test_a_queued_chat_shows_its_current_wait_and_no_duration(supervisor_client: Client) -> None:
    chat = ChatFactory()
    type(chat).objects.filter(pk=chat.pk).update(created_at=timezone.now() - timedelta(hours=1))
    html = supervisor_client.get("/admin/chat/chat/").content.decode()
    assert '<td class="field-wait">1 h 00 min</td>' in html
    assert '<td class="field-duration">—</td>' in html


def test_filters_by_rating_agent_and_close_reason(supervisor_client: Client) -> None:
    agent = AgentFactory()
    rated = RatingFactory(chat=handled_chat(agent=agent)).chat
    unrated = handled_chat(close_reason="abandoned")

    def ids(query: str) -> set[int]:
        response = supervisor_client.get(f"/admin/chat/chat/{query}")
        return {chat.pk for chat in response.context["cl"].result_list}

    assert ids("?rated=yes") == {rated.pk}
    assert ids("?rated=no") == {unrated.pk}
    assert ids(f"?agent={agent.pk}") == {rated.pk}
    assert ids("?close_reason__exact=abandoned") == {unrated.pk}
    # Hostile values list nothing (or everything), never a server error.
    assert ids("?agent=1%27%20OR%201=1") == set()
    assert supervisor_client.get("/admin/chat/chat/?rated=%00").status_code == 200


def test_search_finds_a_customer_by_email(supervisor_client: Client) -> None:
    chat = handled_chat(customer=CustomerFactory(email="needle@example.com"))
    handled_chat()
    response = supervisor_client.get("/admin/chat/chat/?q=needle")
    assert [c.pk for c in response.context["cl"].result_list] == [chat.pk]


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_one_chat_and_fifty(
    supervisor_client: Client,
) -> None:
    RatingFactory(chat=handled_chat())
    one = count_queries(supervisor_client, "/admin/chat/chat/")
    for _ in range(49):
        RatingFactory(chat=handled_chat(agent=AgentFactory()))
    fifty = count_queries(supervisor_client, "/admin/chat/chat/")

    assert fifty == one
    # Session, user, the role (once), the filters' choices, two counts and the page itself.
    assert one == 12
