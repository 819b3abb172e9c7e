"""GET /api/v1/metrics/: routing.metrics.metrics() rows as JSON, for supervisors only, with the
range and the filters validated."""

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.api_support import assert_error, client_for, fresh_cache
from tests.factories import AgentFactory, SupervisorFactory
from tests.routing.metrics_support import DAY, Scene, three_chats

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/"


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> Iterator[None]:
    settings.TIME_ZONE = "UTC"  # the scene's days are UTC days
    yield from fresh_cache(settings)


@pytest.fixture
def scene() -> Scene:
    return three_chats()


def _get(client: APIClient, **params: Any) -> dict[str, Any]:
    response = client.get(URL, {"since": DAY.isoformat(), "until": DAY.isoformat(), **params})
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def test_per_agent_with_totals(scene: Scene) -> None:
    body = _get(client_for(SupervisorFactory()), group_by="agent")

    assert (body["since"], body["until"], body["group_by"]) == (str(DAY), str(DAY), "agent")
    rows = {row["label"]: row for row in body["rows"]}
    assert list(rows) == ["Alice Ames", "Bob Berg", "No agent"]
    alice = rows["Alice Ames"]
    assert (alice["id"], alice["day"], alice["chats"]) == (scene.alice.pk, None, 1)
    assert alice["first_response_seconds"] == 60
    assert alice["handling_seconds"] == 630
    assert alice["canned_share"] == 0.5
    assert alice["csat_average"] == 5.0
    assert rows["No agent"]["id"] is None
    totals = body["totals"]
    assert (totals["label"], totals["chats"], totals["abandoned"]) == ("Total", 3, 1)
    assert totals["first_response_seconds"] == 120
    assert (totals["agent_messages"], totals["canned_messages"]) == (8, 3)
    assert (totals["ratings"], totals["csat_average"], totals["csat_share"]) == (2, 4.0, 0.5)


def test_per_topic_and_filters(scene: Scene) -> None:
    client = client_for(SupervisorFactory())

    by_topic = _get(client, group_by="topic")["rows"]
    billing_only = _get(client, group_by="topic", topic=scene.billing.pk)["rows"]
    bobs = _get(client, group_by="agent", agent=scene.bob.pk)["rows"]

    assert [(r["id"], r["label"]) for r in by_topic] == [
        (scene.billing.pk, "Billing"),
        (scene.shipping.pk, "Shipping"),
    ]
    assert [r["id"] for r in billing_only] == [scene.billing.pk]
    assert [r["label"] for r in bobs] == ["Bob Berg"]


def test_per_day_lists_every_day(scene: Scene) -> None:
    since = DAY - datetime.timedelta(days=2)

    rows = _get(client_for(SupervisorFactory()), since=since.isoformat(), group_by="day")["rows"]

    assert [r["day"] for r in rows] == [str(since + datetime.timedelta(days=n)) for n in range(3)]
    assert [r["chats"] for r in rows] == [0, 1, 3]
    assert all(r["id"] is None for r in rows)


def test_the_defaults_are_the_last_seven_days_by_day() -> None:
    body = client_for(SupervisorFactory()).get(URL).json()

    assert body["group_by"] == "day"
    assert len(body["rows"]) == 7
    assert body["rows"][-1]["day"] == body["until"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2024-03-05", "until": "2024-03-04"}, "until"),
        ({"since": "2023-01-01", "until": "2024-03-04"}, "until"),  # more than 366 days
        ({"since": "1999-12-31", "until": "2000-01-02"}, "since"),
        ({"since": "9999-12-30", "until": "9999-12-31"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2024-02-30"}, "until"),
        ({"group_by": "week"}, "group_by"),
        ({"topic": "billing"}, "topic"),
        ({"agent": "0"}, "agent"),
        ({"agent": "1" * 40}, "agent"),
    ],
)
def test_bad_parameters_are_400(params: dict[str, str], field: str) -> None:
    body = assert_error(client_for(SupervisorFactory()).get(URL, params), 400, "invalid")
    assert field in body["errors"]


def test_a_range_of_366_days_is_allowed() -> None:
    response = client_for(SupervisorFactory()).get(
        URL, {"since": "2023-03-05", "until": "2024-03-04", "group_by": "day"}
    )

    assert response.status_code == 200
    assert len(response.json()["rows"]) == 366


def test_agents_may_not_read_team_metrics() -> None:
    assert_error(client_for(AgentFactory()).get(URL), 403, "permission_denied")


def test_without_a_token_it_is_401() -> None:
    assert_error(APIClient().get(URL), 401, "not_authenticated")


@pytest.mark.parametrize("group_by", ["agent", "topic", "day"])
def test_the_query_count_does_not_grow_with_the_data(group_by: str) -> None:
    client = client_for(SupervisorFactory())
    client.get(URL)  # the token's first use records last_used_at
    with CaptureQueriesContext(connection) as empty:
        _get(client, group_by=group_by)
    three_chats()
    with CaptureQueriesContext(connection) as full:
        _get(client, group_by=group_by)

    assert len(full.captured_queries) == len(empty.captured_queries)
