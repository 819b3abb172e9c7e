"""The topic list tells supervisors whether new chats of each topic get the automatic
greeting, deciding as the greeting itself does (switched off, the topic's own /greet, the
shared one), in a constant number of queries whatever the number of topics."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cannedresponses.models import TopicGreeting
from cannedresponses.selectors import greeting_response_for
from helpdesk.models import Topic
from tests.changelist import changelist_rows
from tests.factories import CannedResponseFactory, SupervisorFactory, TopicFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/helpdesk/topic/"


@pytest.fixture
def supervisor_client(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


def _greeting_column(client: Client) -> dict[str, str]:
    rows = changelist_rows(client.get(LIST).content.decode())
    return {row["name"]: row["greeting"] for row in rows}


def _scene(*, shared_greet: bool) -> None:
    if shared_greet:
        CannedResponseFactory(shortcut="greet")
    # Switched off: not greeted, even with a /greet of its own.
    off = TopicFactory(name="Complaints")
    TopicGreeting.objects.create(topic=off, enabled=False)
    CannedResponseFactory(shortcut="greet", scope="topic", topic=off)
    # Its own active /greet wins over the shared one.
    CannedResponseFactory(shortcut="greet", scope="topic", topic=TopicFactory(name="Billing"))
    # Its own /greet is switched off (inactive): the shared one is used, if any.
    returns = TopicFactory(name="Returns")
    CannedResponseFactory(shortcut="greet", scope="topic", topic=returns, is_active=False)
    # Nothing of its own, explicitly on.
    TopicGreeting.objects.create(topic=TopicFactory(name="Shipping"), enabled=True)


def test_each_topic_says_whether_and_with_what_it_is_greeted(supervisor_client: Client) -> None:
    _scene(shared_greet=True)
    assert _greeting_column(supervisor_client) == {
        "Billing": "on (the topic's /greet)",
        "Complaints": "off",
        "Returns": "on (the shared /greet)",
        "Shipping": "on (the shared /greet)",
    }


def test_without_a_shared_greet_only_topics_with_their_own_are_greeted(
    supervisor_client: Client,
) -> None:
    _scene(shared_greet=False)
    assert _greeting_column(supervisor_client) == {
        "Billing": "on (the topic's /greet)",
        "Complaints": "off",
        "Returns": "off (no /greet response)",
        "Shipping": "off (no /greet response)",
    }


@pytest.mark.parametrize("shared_greet", [True, False])
def test_the_column_agrees_with_the_greeting_itself(
    supervisor_client: Client, shared_greet: bool
) -> None:
    _scene(shared_greet=shared_greet)
    column = _greeting_column(supervisor_client)
    for topic in Topic.objects.all():
        greeted = greeting_response_for(topic_id=topic.pk) is not None
        assert column[topic.name].startswith("on") is greeted, topic.name


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(queries)


def _greeted_topic() -> None:
    topic = TopicFactory()
    TopicGreeting.objects.create(topic=topic, enabled=True)
    CannedResponseFactory(shortcut="greet", scope="topic", topic=topic)


def test_the_list_costs_the_same_queries_for_one_topic_or_twenty(
    supervisor_client: Client,
) -> None:
    CannedResponseFactory(shortcut="greet")
    _greeted_topic()
    one = _list_queries(supervisor_client)
    for _ in range(19):
        _greeted_topic()

    twenty = _list_queries(supervisor_client)

    assert len(_greeting_column(supervisor_client)) == 20
    assert twenty == one
