"""Business hours on the public API: topics say whether they are open now and when they open;
a chat on a closed topic is refused with 409 `topic_closed` and creates nothing."""

from datetime import UTC, datetime, time

import pytest

from chat.models import Chat, Message
from helpdesk.models import Customer
from tests.factories import BusinessHoursFactory, TopicFactory

TOPICS_URL = "/api/v1/public/topics/"
START_URL = "/api/v1/public/chats/"
MON, SUN = 0, 6
# Sunday 29 March 2026, 12:00 UTC: London has just moved to summer time (BST, UTC+1).
SUNDAY_NOON = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sunday_noon(monkeypatch) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: SUNDAY_NOON)


def hours(topic, weekday: int, opens: str, closes: str) -> None:
    BusinessHoursFactory(
        topic=topic,
        weekday=weekday,
        opens=time.fromisoformat(opens),
        closes=time.fromisoformat(closes),
    )


def test_each_topic_says_if_it_is_open_now_and_when_it_opens(api) -> None:
    TopicFactory(slug="always", name="Always", position=1)
    london = TopicFactory(slug="london", name="London", position=2, timezone="Europe/London")
    hours(london, MON, "09:00", "17:00")
    new_york = TopicFactory(slug="ny", name="New York", position=3, timezone="America/New_York")
    hours(new_york, SUN, "10:00", "14:00")  # 12:00 UTC is 08:00 EDT
    utc_topic = TopicFactory(slug="utc", name="UTC", position=4, timezone="UTC")
    hours(utc_topic, SUN, "11:00", "13:00")

    response = api.get(TOPICS_URL)

    assert response.status_code == 200
    assert response.json() == [
        {"slug": "always", "name": "Always", "open_now": True, "opens_at": None},
        {
            "slug": "london",
            "name": "London",
            "open_now": False,
            "opens_at": "2026-03-30T09:00:00+01:00",
        },
        {
            "slug": "ny",
            "name": "New York",
            "open_now": False,
            "opens_at": "2026-03-29T10:00:00-04:00",
        },
        {"slug": "utc", "name": "UTC", "open_now": True, "opens_at": None},
    ]


@pytest.mark.parametrize("count", [1, 15])
def test_one_query_whatever_the_number_of_topics_and_hours(
    api, count: int, django_assert_num_queries
) -> None:
    for index in range(count):
        topic = TopicFactory(timezone="Europe/London", position=index)
        for weekday in range(7):
            # 13:00 in London now: even topics are back from lunch, odd ones not yet.
            hours(topic, weekday, "08:00", "12:00")
            hours(topic, weekday, "14:00" if index % 2 else "13:00", "00:00")
    with django_assert_num_queries(1):
        response = api.get(TOPICS_URL)
    assert [t["open_now"] for t in response.json()] == [index % 2 == 0 for index in range(count)]


def test_a_chat_on_a_closed_topic_is_409_topic_closed_and_creates_nothing(api) -> None:
    topic = TopicFactory(slug="returns", timezone="Europe/London")
    hours(topic, MON, "09:00", "17:00")

    response = api.post(
        START_URL, {"name": "Ana", "topic": "returns", "message": "Hello?"}, format="json"
    )

    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "topic_closed"
    assert body["opens_at"] == "2026-03-30T09:00:00+01:00"
    assert "message" in body["detail"]
    assert set(body) == {"code", "detail", "opens_at"}
    assert not Chat.objects.exists()
    assert not Customer.objects.exists()
    assert not Message.objects.exists()


def test_a_chat_within_the_hours_starts(api) -> None:
    topic = TopicFactory(slug="returns", timezone="America/New_York")
    hours(topic, SUN, "07:00", "09:00")  # 08:00 EDT
    response = api.post(START_URL, {"name": "Ana", "topic": "returns"}, format="json")
    assert response.status_code == 201
    assert Chat.objects.get().topic == topic


def test_checking_the_hours_costs_no_query_more(api, django_assert_num_queries) -> None:
    topic = TopicFactory(slug="returns")
    for weekday in range(7):
        hours(topic, weekday, "00:00", "00:00")
    with django_assert_num_queries(14):  # as without hours (test_public_chat_start)
        response = api.post(
            START_URL, {"name": "Ana", "topic": "returns", "message": "Hi"}, format="json"
        )
    assert response.status_code == 201


def test_the_409_reaches_an_allowed_widget_origin(api, settings) -> None:
    settings.HELPDESK_WIDGET_ORIGINS = ["https://shop.example.com"]
    topic = TopicFactory(slug="returns")
    hours(topic, MON, "09:00", "17:00")
    response = api.post(
        START_URL,
        {"name": "Ana", "topic": "returns"},
        format="json",
        HTTP_ORIGIN="https://shop.example.com",
    )
    assert response.status_code == 409
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
