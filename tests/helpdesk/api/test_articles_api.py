"""/api/v1/articles/: agents read published articles, supervisors also drafts and write them
(through helpdesk.services.article_create); the HTML served is helpdesk.articles' sanitised one."""

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from helpdesk.models import Article
from tests.api_support import assert_error, client_for, fresh_cache, query_count, result_ids
from tests.factories import AgentFactory, ArticleFactory, SupervisorFactory, TopicFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/articles/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


def test_agents_see_published_articles_only() -> None:
    published = ArticleFactory()
    ArticleFactory(is_published=False)
    client = client_for(AgentFactory())

    assert result_ids(client.get(URL)) == [published.pk]
    assert result_ids(client.get(URL, {"published": "false"})) == []


def test_supervisors_also_see_drafts() -> None:
    published = ArticleFactory()
    draft = ArticleFactory(is_published=False)
    client = client_for(SupervisorFactory())

    assert result_ids(client.get(URL)) == [draft.pk, published.pk]
    assert result_ids(client.get(URL, {"published": "false"})) == [draft.pk]
    assert result_ids(client.get(URL, {"published": "true"})) == [published.pk]


def test_an_agent_cannot_open_a_draft() -> None:
    draft = ArticleFactory(is_published=False)

    assert_error(client_for(AgentFactory()).get(f"{URL}{draft.pk}/"), 404, "not_found")
    assert client_for(SupervisorFactory()).get(f"{URL}{draft.pk}/").status_code == 200


def test_filters_by_topic() -> None:
    topic = TopicFactory()
    mine = ArticleFactory(topic=topic)
    ArticleFactory()

    assert result_ids(client_for(AgentFactory()).get(URL, {"topic": topic.pk})) == [mine.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"topic": "x"}, "topic"),
        ({"topic": "-3"}, "topic"),
        ({"published": "perhaps"}, "published"),
    ],
)
def test_bad_filters_are_400(params: dict[str, str], field: str) -> None:
    body = assert_error(client_for(AgentFactory()).get(URL, params), 400, "invalid")
    assert field in body["errors"]


def test_a_row_has_the_public_url_tags_and_a_plain_excerpt() -> None:
    topic = TopicFactory()
    article = ArticleFactory(
        slug="returns", title="Returns", body="# Send it back\n\nWithin **30** days.", topic=topic
    )
    Article.objects.filter(pk=article.pk).update(tags="refund, money")

    [row] = client_for(AgentFactory()).get(URL).json()["results"]

    assert row["url"] == "http://testserver/help/returns/"
    assert row["tags"] == ["refund", "money"]
    assert row["topic"]["id"] == topic.pk
    assert row["excerpt"] == "Send it back Within 30 days."
    assert "body" not in row and "html" not in row


def test_the_detail_has_the_markdown_and_sanitised_html() -> None:
    article = ArticleFactory(
        body='Hi <script>alert(1)</script> [x](javascript:alert(2)) <b onclick="x()">b</b>'
    )

    row = client_for(AgentFactory()).get(f"{URL}{article.pk}/").json()

    assert row["body"].startswith("Hi <script>")  # the source, as written
    assert "<script" not in row["html"]
    assert "javascript:" not in row["html"]
    assert "<b onclick" not in row["html"]
    assert "&lt;script&gt;" in row["html"]  # typed HTML shows as text


def test_the_query_count_does_not_grow_with_the_rows() -> None:
    client = client_for(SupervisorFactory())
    ArticleFactory(topic=TopicFactory())
    client.get(URL)  # the token's first use records last_used_at
    one = query_count(client, URL)
    for _ in range(19):
        ArticleFactory(topic=TopicFactory())

    assert query_count(client, URL) == one


def test_pages_with_a_cursor() -> None:
    articles = [ArticleFactory() for _ in range(3)]
    client = client_for(AgentFactory())

    first = client.get(URL, {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert [r["id"] for r in first["results"] + second["results"]] == [
        a.pk for a in reversed(articles)
    ]


# --- Writing ----------------------------------------------------------------------------------


def _new(**fields: Any) -> dict[str, Any]:
    return {"title": "Returns", "slug": "returns", "body": "Within **30** days.", **fields}


def test_a_supervisor_writes_an_article() -> None:
    topic = TopicFactory()
    client = client_for(SupervisorFactory(), scope="write")

    response = client.post(
        URL, _new(topic=topic.pk, tags="Refund, REFUND, money", is_published=False), format="json"
    )

    assert response.status_code == 201, response.content
    row = response.json()
    article = Article.objects.get(pk=row["id"])
    assert article.tags == "refund, money"
    assert article.is_published is False
    assert row["html"] == "<p>Within <strong>30</strong> days.</p>"
    assert row["topic"]["id"] == topic.pk


def test_an_agent_may_not_write() -> None:
    response = client_for(AgentFactory(), scope="write").post(URL, _new(), format="json")

    assert_error(response, 403, "permission_denied")
    assert not Article.objects.exists()


def test_a_read_token_may_not_write() -> None:
    response = client_for(SupervisorFactory(), scope="read").post(URL, _new(), format="json")

    assert_error(response, 403, "read_only_token")


def test_a_taken_slug_is_refused_by_the_service() -> None:
    ArticleFactory(slug="returns")

    response = client_for(SupervisorFactory(), scope="write").post(URL, _new(), format="json")

    body = assert_error(response, 400, "article_invalid")
    assert "slug" in body["errors"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"slug": "not a slug!"}, "slug"),
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"body": "b" * 50001}, "body"),
        ({"topic": 999999}, "topic"),
        ({"topic": "3"}, "topic"),
        ({"is_published": "yes"}, "is_published"),
        ({"tags": ["a", "b"]}, "tags"),
    ],
)
def test_bad_fields_are_400(fields: dict[str, Any], field: str) -> None:
    response = client_for(SupervisorFactory(), scope="write").post(
        URL, _new(**fields), format="json"
    )

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Article.objects.exists()


def test_without_a_token_it_is_401() -> None:
    assert_error(APIClient().get(URL), 401, "not_authenticated")
