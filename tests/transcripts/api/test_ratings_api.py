"""GET /api/v1/ratings/: customers' ratings of chats, filtered by score, agent, topic and dates;
an agent's token sees the ratings of the chats that agent may read, a supervisor's all."""

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chat.models import ChatEvent
from tests.api_support import assert_error, client_for, fresh_cache, query_count, result_ids
from tests.factories import (
    AgentFactory,
    ClosedChatFactory,
    CustomerFactory,
    RatingFactory,
    SupervisorFactory,
    TopicFactory,
)
from transcripts.models import Rating

pytestmark = pytest.mark.django_db

URL = "/api/v1/ratings/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


def _rating(*, agent: Any = None, **kwargs: Any) -> Rating:
    chat_fields = {k: kwargs.pop(k) for k in ("topic", "customer") if k in kwargs}
    chat = ClosedChatFactory(agent=agent or AgentFactory(), **chat_fields)
    return RatingFactory(chat=chat, **kwargs)


def test_a_row_names_the_chat_its_topic_agent_and_customer() -> None:
    agent = AgentFactory(first_name="Rui", last_name="Costa")
    customer = CustomerFactory(name="Ana", email="ana@example.com")
    rating = _rating(agent=agent, customer=customer, score=2, comment="Slow.")

    [row] = client_for(SupervisorFactory()).get(URL).json()["results"]

    assert row["id"] == rating.pk
    assert row["chat"] == rating.chat_id
    assert row["score"] == 2
    assert row["comment"] == "Slow."
    assert row["agent"] == {"id": agent.pk, "name": "Rui Costa"}
    assert row["customer"] == {"id": customer.pk, "name": "Ana", "email": "ana@example.com"}
    assert row["topic"]["id"] == rating.chat.topic_id


def test_an_agent_sees_the_ratings_of_chats_they_may_read() -> None:
    agent = AgentFactory()
    mine = _rating(agent=agent)
    handed_on = _rating()  # held before, then passed to a colleague
    ChatEvent.objects.create(
        chat=handed_on.chat, kind=ChatEvent.Kind.ASSIGNED, data={"agent": agent.pk}
    )
    _rating()  # a colleague's chat

    assert set(result_ids(client_for(agent).get(URL))) == {mine.pk, handed_on.pk}
    assert len(result_ids(client_for(SupervisorFactory()).get(URL))) == 3


def test_filters_by_score_agent_and_topic() -> None:
    agent, topic = AgentFactory(), TopicFactory()
    low = _rating(score=1, agent=agent)
    mid = _rating(score=3, topic=topic)
    high = _rating(score=5, agent=agent, topic=topic)
    client = client_for(SupervisorFactory())

    assert result_ids(client.get(URL, {"score": 3})) == [mid.pk]
    assert result_ids(client.get(URL, {"max_score": 3})) == [mid.pk, low.pk]
    assert result_ids(client.get(URL, {"min_score": 3})) == [high.pk, mid.pk]
    assert result_ids(client.get(URL, {"agent": agent.pk})) == [high.pk, low.pk]
    assert result_ids(client.get(URL, {"topic": topic.pk, "agent": agent.pk})) == [high.pk]


def test_filters_by_the_ratings_dates() -> None:
    now = timezone.now()
    old, new = _rating(), _rating()
    Rating.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=10))
    client = client_for(SupervisorFactory())
    cut = (now - datetime.timedelta(days=5)).isoformat()

    assert result_ids(client.get(URL, {"created_after": cut})) == [new.pk]
    assert result_ids(client.get(URL, {"created_before": cut})) == [old.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"score": "6"}, "score"),
        ({"score": "0"}, "score"),
        ({"score": "five"}, "score"),
        ({"min_score": "4", "max_score": "2"}, "max_score"),
        ({"agent": "-1"}, "agent"),
        ({"topic": "9" * 30}, "topic"),
        ({"created_after": "2024-13-01"}, "created_after"),
        ({"created_after": "2024-05-02T00:00", "created_before": "2024-05-01"}, "created_before"),
    ],
)
def test_bad_filters_are_400(params: dict[str, str], field: str) -> None:
    body = assert_error(client_for(SupervisorFactory()).get(URL, params), 400, "invalid")
    assert field in body["errors"]


def test_the_query_count_does_not_grow_with_the_rows() -> None:
    agent = AgentFactory()
    client = client_for(agent)
    _rating(agent=agent)
    client.get(URL)  # the token's first use records last_used_at
    one = query_count(client, URL)
    for _ in range(19):
        _rating(agent=agent, topic=TopicFactory())

    assert query_count(client, URL) == one
    assert len(result_ids(client.get(URL))) == 20


def test_pages_with_a_cursor() -> None:
    ratings = [_rating() for _ in range(3)]
    client = client_for(SupervisorFactory())

    first = client.get(URL, {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert [r["id"] for r in first["results"] + second["results"]] == [
        r.pk for r in reversed(ratings)
    ]


def test_a_comment_with_html_comes_back_as_data() -> None:
    _rating(comment="<script>document.cookie</script>")

    response = client_for(SupervisorFactory()).get(URL)

    assert response["Content-Type"] == "application/json"
    assert response.json()["results"][0]["comment"] == "<script>document.cookie</script>"


def test_ratings_are_read_only() -> None:
    response = client_for(SupervisorFactory(), scope="write").post(URL, {}, format="json")

    assert_error(response, 405, "method_not_allowed")


def test_without_a_token_it_is_401() -> None:
    assert_error(APIClient().get(URL), 401, "not_authenticated")
