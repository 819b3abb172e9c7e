"""The public help pages: /help/ (index and search) and /help/<slug>/ (one article)."""

from typing import Any

import pytest
from django.test import Client

from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_a_published_article_is_served_rendered(client: Client) -> None:
    ArticleFactory(
        title="How to return an item",
        slug="returns",
        topic=TopicFactory(name="Returns"),
        body="# Steps\n\n1. Pack it\n2. Post it\n\nSee [the FAQ](https://example.com/faq).",
    )
    response = client.get("/help/returns/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="kb-article-title" class="kb-article__title">How to return an item</h1>' in html
    assert "<h2>Steps</h2>" in html
    assert "<li>Pack it</li>" in html
    assert '<a href="https://example.com/faq" rel="noopener nofollow">the FAQ</a>' in html
    assert "Returns" in html
    assert "<title>How to return an item · Help ·" in html


@pytest.mark.parametrize("slug", ["draft", "nothing-here"])
def test_drafts_and_unknown_slugs_are_404(client: Client, slug: str) -> None:
    ArticleFactory(slug="draft", is_published=False)
    assert client.get(f"/help/{slug}/").status_code == 404


@pytest.mark.parametrize("path", ["/help/../admin/", "/help/a%20b/", "/help/%3Cscript%3E/"])
def test_odd_paths_are_404_not_500(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_article_page_is_get_only(client: Client) -> None:
    ArticleFactory(slug="returns")
    assert client.post("/help/returns/").status_code == 405


def test_script_payloads_in_title_and_body_are_escaped(client: Client) -> None:
    ArticleFactory(
        slug="xss",
        title="<script>alert('title')</script>",
        body="<script>alert('body')</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1))",
        topic=TopicFactory(name="<b>topic</b>"),
    )
    html = client.get("/help/xss/").content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in html
    # The body's markdown shows raw HTML as text (quotes need no escaping outside attributes).
    assert "<p>&lt;script&gt;alert('body')&lt;/script&gt;</p>" in html
    assert "<img" not in html
    assert "javascript:" not in html
    assert "<b>topic</b>" not in html and "&lt;b&gt;topic&lt;/b&gt;" in html


def test_the_index_lists_published_articles_with_excerpts(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    ArticleFactory(title="Billing", slug="billing", body="All about **invoices**.")
    ArticleFactory(title="Returns", slug="returns", body="Send it back.")
    ArticleFactory(title="Secret draft", is_published=False)
    # Session-less visitor: a count and a page of articles with their topics.
    with django_assert_max_num_queries(2):
        response = client.get("/help/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<a href="/help/billing/">Billing</a>' in html
    assert "All about invoices." in html
    assert '<a href="/help/returns/">Returns</a>' in html
    assert "Secret draft" not in html


def test_the_index_paginates(client: Client) -> None:
    for n in range(25):
        ArticleFactory(title=f"Article {n:02}")
    first = client.get("/help/").content.decode()
    assert "Article 19" in first and "Article 20" not in first
    assert "Page 1 of 2" in first
    second = client.get("/help/", {"page": "2"}).content.decode()
    assert "Article 20" in second and "Article 24" in second
    # Nonsense pages are the nearest real page, not an error.
    for page in ["0", "-1", "999", "abc", "1e9"]:
        assert client.get("/help/", {"page": page}).status_code == 200


def test_the_index_searches(client: Client) -> None:
    ArticleFactory(title="Refund times", slug="refund-times", body="Five days.")
    ArticleFactory(title="Delivery", body="Two days.")
    response = client.get("/help/", {"q": "refund"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<a href="/help/refund-times/">Refund times</a>' in html
    assert "Delivery" not in html.split('id="kb-results"')[1]
    assert "1 article for “refund”" in html


def test_a_search_with_no_match_says_so(client: Client) -> None:
    html = client.get("/help/", {"q": "unicorn"}).content.decode()
    assert "No article matches your search." in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x" * 10_000, "Ensure this value has at most 200 characters"),
        ("a\x01b", "A search cannot contain control characters."),
        ("a\x00b", "Null characters are not allowed."),
    ],
)
def test_bad_searches_are_400_with_the_reason(client: Client, query: str, message: str) -> None:
    response = client.get("/help/", {"q": query})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_script_search_is_escaped_on_the_page(client: Client) -> None:
    html = client.get("/help/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
