"""The supervisors' agent list: skills, seniority, limit against open chats, the chosen status
and whether a console is open, in a constant number of queries whatever the number of agents."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Chat
from routing.models import AgentProfile
from tests.changelist import changelist_rows
from tests.factories import ChatFactory, SupervisorFactory, TopicFactory
from tests.routing.conftest import make_agent, open_console

pytestmark = pytest.mark.django_db

LIST = "/admin/routing/agentprofile/"


@pytest.fixture
def supervisor_client(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


def _rows(client: Client) -> dict[str, dict[str, str]]:
    return {row["user"]: row for row in changelist_rows(client.get(LIST).content.decode())}


def test_each_row_shows_skills_seniority_load_status_and_console(
    supervisor_client: Client,
) -> None:
    billing = TopicFactory(name="Billing")
    shipping = TopicFactory(name="Shipping")
    alice = make_agent(username="alice", topics=[shipping, billing], max_chats=5)
    AgentProfile.objects.filter(user=alice).update(seniority=AgentProfile.Seniority.SENIOR)
    ChatFactory.create_batch(2, agent=alice, status=Chat.Status.ACTIVE)
    ChatFactory(agent=alice, status=Chat.Status.CLOSED, closed_at=timezone.now())  # not open
    # Chose online, but the console's last beat is too old: not reachable.
    bob = make_agent(username="bob", status=AgentProfile.Status.ONLINE, present=False)
    open_console(bob, last_seen_at=timezone.now() - timedelta(minutes=5))
    make_agent(username="carla", status=AgentProfile.Status.AWAY, topics=[billing])

    rows = _rows(supervisor_client)

    assert rows["alice"] == {
        "user": "alice",
        "seniority": "Senior",
        "max_chats": "5",
        "open_chats": "2",
        "status": "Online",
        "console_open": "true",
        "skills": "Billing, Shipping",
        "last_assigned_at": "-",
    }
    assert rows["bob"]["status"] == "Online"
    assert rows["bob"]["console_open"] == "false"
    # No skills set: a generalist, given chats of every topic.
    assert rows["bob"]["skills"] == "every topic"
    assert (rows["bob"]["open_chats"], rows["bob"]["max_chats"]) == ("0", "3")
    assert rows["carla"]["status"] == "Away"
    assert rows["carla"]["console_open"] == "true"
    assert rows["carla"]["skills"] == "Billing"


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(queries)


def _busy_agent(topics: list[Any]) -> None:
    agent = make_agent(topics=topics)
    ChatFactory(agent=agent, status=Chat.Status.ACTIVE)


def test_the_list_costs_the_same_queries_for_one_agent_or_twenty(
    supervisor_client: Client,
) -> None:
    topics = [TopicFactory(), TopicFactory()]
    _busy_agent(topics)
    one = _list_queries(supervisor_client)
    for _ in range(19):
        _busy_agent(topics)

    twenty = _list_queries(supervisor_client)

    assert len(_rows(supervisor_client)) == 20
    assert twenty == one
