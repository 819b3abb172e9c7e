"""GET /api/v1/public/topics/: what a customer can pick, in the widget's order."""

import pytest

from tests.factories import TopicFactory

URL = "/api/v1/public/topics/"

pytestmark = pytest.mark.django_db


def test_active_topics_in_their_order(api) -> None:
    TopicFactory(slug="billing", name="Billing", position=2)
    TopicFactory(slug="returns", name="Returns", position=1)
    TopicFactory(slug="archive", name="Archive", position=0, is_active=False)
    TopicFactory(slug="alpha", name="Alpha", position=2)
    response = api.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    # No business hours: always open.
    assert response.json() == [
        {"slug": "returns", "name": "Returns", "open_now": True, "opens_at": None},
        {"slug": "alpha", "name": "Alpha", "open_now": True, "opens_at": None},
        {"slug": "billing", "name": "Billing", "open_now": True, "opens_at": None},
    ]


def test_no_topics_is_an_empty_list(api) -> None:
    assert api.get(URL).json() == []


@pytest.mark.parametrize("count", [1, 10])
def test_one_query_whatever_the_number_of_topics(
    api, count: int, django_assert_num_queries
) -> None:
    for _ in range(count):
        TopicFactory()
    with django_assert_num_queries(1):
        response = api.get(URL)
    assert len(response.json()) == count


def test_topic_names_are_returned_verbatim(api) -> None:
    TopicFactory(slug="odd", name="<b>Returns</b> & refunds")
    assert api.get(URL).json() == [
        {"slug": "odd", "name": "<b>Returns</b> & refunds", "open_now": True, "opens_at": None}
    ]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_it_is_read_only(api, method: str) -> None:
    response = getattr(api, method)(URL, {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
