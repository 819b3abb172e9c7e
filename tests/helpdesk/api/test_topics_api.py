"""GET /api/v1/topics/ and /api/v1/topics/<id>/: every topic with its thresholds, business hours
and whether it is open now, for any staff token."""

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from helpdesk.models import BusinessHours
from tests.api_support import assert_error, client_for, fresh_cache, query_count
from tests.factories import AgentFactory, BusinessHoursFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/topics/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


def test_a_topic_with_its_thresholds_and_hours() -> None:
    topic = TopicFactory(
        name="Billing",
        slug="billing",
        amber_after_seconds=30,
        red_after_seconds=90,
        reply_timeout_seconds=120,
        offer_message_after_seconds=300,
        timezone="Europe/Lisbon",
    )
    BusinessHoursFactory(topic=topic, weekday=BusinessHours.Weekday.TUESDAY)
    BusinessHoursFactory(
        topic=topic,
        weekday=BusinessHours.Weekday.MONDAY,
        opens=datetime.time(13, 0),
        closes=datetime.time(0, 0),
    )
    client = client_for(AgentFactory())

    row = client.get(f"{URL}{topic.pk}/").json()

    assert row["id"] == topic.pk
    assert row["slug"] == "billing"
    assert row["amber_after_seconds"] == 30
    assert row["red_after_seconds"] == 90
    assert row["reply_timeout_seconds"] == 120
    assert row["offer_message_after_seconds"] == 300
    assert row["timezone"] == "Europe/Lisbon"
    assert row["always_open"] is False
    # Sorted by day, and a midnight closing reads as the end of the day.
    assert row["business_hours"] == [
        {"weekday": 0, "opens": "13:00", "closes": "24:00"},
        {"weekday": 1, "opens": "09:00", "closes": "17:00"},
    ]
    assert isinstance(row["open_now"], bool)
    if row["open_now"]:
        assert row["opens_at"] is None
    else:
        opens_at = datetime.datetime.fromisoformat(row["opens_at"])
        assert opens_at.utcoffset() is not None


def test_a_topic_without_hours_is_always_open() -> None:
    topic = TopicFactory()

    row = client_for(AgentFactory()).get(f"{URL}{topic.pk}/").json()

    assert row["always_open"] is True
    assert row["business_hours"] == []
    assert row["open_now"] is True
    assert row["opens_at"] is None


def test_the_list_filters_by_active() -> None:
    live = TopicFactory(is_active=True)
    retired = TopicFactory(is_active=False)
    client = client_for(AgentFactory())

    every = {row["id"] for row in client.get(URL).json()["results"]}
    active = {row["id"] for row in client.get(URL, {"active": "true"}).json()["results"]}
    inactive = {row["id"] for row in client.get(URL, {"active": "false"}).json()["results"]}

    assert {live.pk, retired.pk} <= every
    assert live.pk in active and retired.pk not in active
    assert retired.pk in inactive and live.pk not in inactive


@pytest.mark.parametrize("value", ["maybe", "2", "\x00", "t" * 300])
def test_a_bad_active_filter_is_400(value: str) -> None:
    response = client_for(AgentFactory()).get(URL, {"active": value})

    body = assert_error(response, 400, "invalid")
    assert "active" in body["errors"]


def test_pages_newest_first_with_a_cursor() -> None:
    topics = [TopicFactory() for _ in range(5)]
    client = client_for(AgentFactory())

    first = client.get(URL, {"limit": 2}).json()
    second = client.get(first["next"]).json()

    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == [t.pk for t in reversed(topics)][:4]


def test_a_forged_cursor_is_404() -> None:
    response = client_for(AgentFactory()).get(URL, {"cursor": "not-a-cursor"})

    assert_error(response, 404, "not_found")


def test_the_query_count_does_not_grow_with_the_rows() -> None:
    client = client_for(AgentFactory())
    topic = TopicFactory()
    BusinessHoursFactory(topic=topic)
    client.get(URL)  # the token's first use records last_used_at: not part of the count
    one = query_count(client, URL)
    for _ in range(19):
        BusinessHoursFactory(topic=TopicFactory())

    twenty = query_count(client, URL)

    assert twenty == one
    assert len(client.get(URL).json()["results"]) == 20


def test_an_unknown_or_oversize_id_is_404() -> None:
    client = client_for(AgentFactory())

    assert_error(client.get(f"{URL}999999/"), 404, "not_found")
    # 19 digits would overflow the database driver: the URL does not match at all.
    assert_error(client.get(f"{URL}{'9' * 19}/"), 404, "not_found")


def test_html_in_a_name_comes_back_as_data() -> None:
    topic = TopicFactory(name='<img src=x onerror="alert(1)">')

    response = client_for(AgentFactory()).get(f"{URL}{topic.pk}/")

    assert response["Content-Type"] == "application/json"
    assert response.json()["name"] == '<img src=x onerror="alert(1)">'


def test_without_a_token_it_is_401() -> None:
    assert_error(APIClient().get(URL), 401, "not_authenticated")


def test_a_token_of_someone_no_longer_staff_is_403() -> None:
    agent = AgentFactory()
    client = client_for(agent)
    agent.groups.clear()

    assert_error(client.get(URL), 403, "permission_denied")


def test_a_user_who_is_not_staff_cannot_log_in_with_a_session() -> None:
    user = UserFactory()
    client = APIClient()
    client.force_authenticate(user)

    assert_error(client.get(URL), 403, "permission_denied")


def test_topics_are_read_only() -> None:
    response = client_for(AgentFactory(), scope="write").post(URL, {}, format="json")

    assert_error(response, 405, "method_not_allowed")
