"""GET /api/v1/agents/ and /api/v1/agents/<id>/: the team as routing sees it (status, presence,
load, skills), for supervisors' tokens."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from routing.models import AgentProfile
from tests.api_support import assert_error, client_for, fresh_cache
from tests.factories import AgentFactory, SupervisorFactory, TopicFactory, UserFactory
from tests.helpers import active_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db

LIST = "/api/v1/agents/"


def detail(user_id: int) -> str:
    return f"/api/v1/agents/{user_id}/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


@pytest.fixture
def lead() -> APIClient:
    return client_for(SupervisorFactory())


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_an_agent_reads_as_documented(lead: APIClient) -> None:
    returns = TopicFactory(slug="returns", name="Returns")
    billing = TopicFactory(slug="billing", name="Billing")
    bruno = make_agent(
        topics=[returns, billing], max_chats=4, first_name="Bruno", last_name="Costa"
    )
    AgentProfile.objects.filter(user=bruno).update(seniority="senior")
    active_chat(agent=bruno, topic=returns)
    row = lead.get(detail(bruno.pk)).json()
    assert row == {
        "id": bruno.pk,
        "username": bruno.username,
        "name": "Bruno Costa",
        "email": bruno.email,
        "status": "online",
        "present": True,
        "available": True,
        "open_chats": 1,
        "max_chats": 4,
        "seniority": "senior",
        "skills": [
            {"id": billing.pk, "slug": "billing", "name": "Billing"},
            {"id": returns.pk, "slug": "returns", "name": "Returns"},
        ],
        "status_changed_at": row["status_changed_at"],
        "last_assigned_at": row["last_assigned_at"],
    }
    assert lead.get(LIST).json()["results"] == [row]


def test_an_agent_without_a_profile_shows_routings_defaults(lead: APIClient) -> None:
    agent = AgentFactory(first_name="", last_name="")
    row = lead.get(detail(agent.pk)).json()
    assert (row["name"], row["status"], row["present"], row["available"]) == (
        agent.username,
        "offline",
        False,
        False,
    )
    assert (row["open_chats"], row["max_chats"], row["seniority"], row["skills"]) == (
        0,
        3,
        "agent",
        [],
    )


def test_available_means_online_present_and_with_room(lead: APIClient) -> None:
    full = make_agent(max_chats=1)
    active_chat(agent=full)
    away = make_agent(status="away")
    gone = make_agent(present=False)
    free = make_agent()
    rows = {row["id"]: row for row in lead.get(LIST).json()["results"]}
    assert {pk for pk, row in rows.items() if row["available"]} == {free.pk}
    assert (rows[full.pk]["open_chats"], rows[full.pk]["available"]) == (1, False)
    assert rows[away.pk]["status"] == "away"
    assert rows[gone.pk]["present"] is False


def test_only_active_agents_are_listed(lead: APIClient) -> None:
    agent = make_agent()
    AgentFactory(is_active=False)
    UserFactory()
    SupervisorFactory()  # a supervisor without the console is not an agent
    assert ids(lead.get(LIST)) == [agent.pk]


def test_filters(lead: APIClient) -> None:
    returns, billing = TopicFactory(slug="returns"), TopicFactory(slug="billing")
    specialist = make_agent(topics=[returns])
    generalist = make_agent(status="away")
    other = make_agent(topics=[billing], present=False)
    never = AgentFactory()  # no profile: offline, every topic
    assert ids(lead.get(LIST, {"topic": "returns"})) == [never.pk, generalist.pk, specialist.pk]
    assert ids(lead.get(LIST, {"status": "online"})) == [other.pk, specialist.pk]
    assert ids(lead.get(LIST, {"status": "offline"})) == [never.pk]
    assert ids(lead.get(LIST, {"present": "false"})) == [never.pk, other.pk]
    assert ids(lead.get(LIST, {"present": "true", "topic": "billing"})) == [generalist.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"status": "busy"}, "status", id="status"),
        pytest.param({"present": "maybe"}, "present", id="present"),
        pytest.param({"topic": "no such"}, "topic", id="topic-not-a-slug"),
        pytest.param({"topic": "nowhere"}, "topic", id="topic-unknown"),
        pytest.param({"limit": "0"}, "limit", id="limit"),
    ],
)
def test_bad_filters_are_400(lead: APIClient, params: dict[str, str], field: str) -> None:
    body = assert_error(lead.get(LIST, params), 400, "invalid")
    assert field in body["errors"]


def test_pages_by_cursor(lead: APIClient) -> None:
    agents = [make_agent() for _ in range(3)]
    first = lead.get(LIST, {"limit": 2}).json()
    assert [r["id"] for r in first["results"]] == [agents[2].pk, agents[1].pk]
    assert [r["id"] for r in lead.get(first["next"]).json()["results"]] == [agents[0].pk]


def test_supervisors_only() -> None:
    agent = make_agent()
    assert_error(APIClient().get(LIST), 401, "not_authenticated")
    for url in (LIST, detail(agent.pk)):
        assert_error(client_for(agent).get(url), 403, "permission_denied")


@pytest.mark.parametrize("make_user", [UserFactory, SupervisorFactory, lambda: None])
def test_someone_who_is_no_agent_is_not_found(lead: APIClient, make_user: Any) -> None:
    user = make_user()
    user_id = user.pk if user else 10**12
    assert_error(lead.get(detail(user_id)), 404, "agent_not_found")


def test_a_page_costs_the_same_queries_for_1_or_20_agents(lead: APIClient) -> None:
    topic = TopicFactory()

    def count() -> int:
        lead.get(LIST)
        with CaptureQueriesContext(connection) as queries:
            assert lead.get(LIST).status_code == 200
        return len(queries)

    active_chat(agent=make_agent(topics=[topic]))
    one = count()
    for _ in range(19):
        active_chat(agent=make_agent(topics=[topic, TopicFactory()]))
    assert count() == one
    # token, role, the agents with load and presence, their skills
    assert one == 4
