"""helpdesk.selectors.article_search: one query, published articles only, the chat's topic
first; PostgreSQL full-text search there, the word-by-word fallback elsewhere.

The fallback's own tests force it, so they run on either database; the full-text tests need
PostgreSQL (the `postgres` fixture skips them elsewhere, fails them in CI).
"""

from typing import Any

import pytest

from helpdesk import selectors
from helpdesk.models import Article
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


def titles(articles: list[Article]) -> list[str]:
    return [article.title for article in articles]


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SQLite search, whatever the database under the test."""
    monkeypatch.setattr(selectors, "_full_text_search_available", lambda: False)


# --- Either way -------------------------------------------------------------------------------


def test_one_query_with_the_topics_loaded(django_assert_num_queries: Any) -> None:
    topic = TopicFactory(name="Returns", slug="returns")
    for n in range(12):
        ArticleFactory(title=f"Parcel return {n}", topic=topic if n % 2 else None)
    with django_assert_num_queries(1):
        found = selectors.article_search(query="parcel return", topic_slug="returns")
        names = [article.topic.name if article.topic else None for article in found]
    assert len(found) == selectors.ARTICLE_SEARCH_LIMIT
    assert "Returns" in names


def test_drafts_are_never_found() -> None:
    ArticleFactory(title="Refund policy", is_published=False)
    ArticleFactory(title="Refund times")
    assert titles(selectors.article_search(query="refund")) == ["Refund times"]


def test_the_chats_topic_comes_first() -> None:
    billing = TopicFactory(name="Billing", slug="billing")
    ArticleFactory(title="Refund to your card", body="Refund details.")
    ArticleFactory(title="Billing refund", topic=billing, body="Refund details.")
    found = titles(selectors.article_search(query="refund", topic_slug="billing"))
    assert found[0] == "Billing refund"
    # An unknown topic boosts nothing and is no error.
    assert len(selectors.article_search(query="refund", topic_slug="nope")) == 2


def test_at_most_ten() -> None:
    for n in range(15):
        ArticleFactory(title=f"Shipping {n}")
    assert len(selectors.article_search(query="shipping")) == 10
    assert len(selectors.article_search(query="shipping", limit=3)) == 3


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01\x7f", "\t\n"])
def test_nothing_to_search_costs_no_query(query: str, django_assert_num_queries: Any) -> None:
    ArticleFactory(title="Anything")
    with django_assert_num_queries(0):
        assert selectors.article_search(query=query) == []


def test_hostile_queries_find_nothing_and_break_nothing() -> None:
    ArticleFactory(title="Returns", body="Send it back.")
    for query in [
        "x" * 10_000,
        "<script>alert(1)</script>",
        "'; DROP TABLE helpdesk_article; --",
        "%",
        "_",
        "\\",
        "q\x00z",
        "!!! ((( ))) & | :* <-> ''",
        "🙂" * 50,
    ]:
        assert selectors.article_search(query=query) == [], query


def test_the_query_is_normalised_before_the_database_sees_it() -> None:
    assert selectors.article_query_normalise("  a\x00b\x1f c\n\td  ") == "a b c d"
    assert len(selectors.article_query_normalise("y" * 10_000)) == 200


# --- The fallback (SQLite) --------------------------------------------------------------------


def test_fallback_every_word_must_appear_somewhere(fallback: None) -> None:
    ArticleFactory(title="Return a parcel", tags="label", body="Print the label.")
    ArticleFactory(title="Return policy", body="Thirty days.")
    assert titles(selectors.article_search(query="return label")) == ["Return a parcel"]
    assert titles(selectors.article_search(query="RETURN Thirty")) == ["Return policy"]
    assert selectors.article_search(query="return unicorn") == []


def test_fallback_ranks_title_matches_first_then_tags(fallback: None) -> None:
    ArticleFactory(title="A body match", body="All about invoices.")
    ArticleFactory(title="B tag match", tags="invoice, vat", body="Other words.")
    ArticleFactory(title="C invoice in the title", body="Text.")
    assert titles(selectors.article_search(query="invoice")) == [
        "C invoice in the title",
        "B tag match",
        "A body match",
    ]


def test_fallback_punctuation_is_not_a_word(fallback: None) -> None:
    ArticleFactory(title="Track your parcel")
    assert titles(selectors.article_search(query='"track" -parcel?')) == ["Track your parcel"]
    assert selectors.article_search(query="%%% ***") == []


def test_fallback_uses_only_the_first_ten_words(fallback: None) -> None:
    ArticleFactory(title="one two three four five six seven eight nine ten")
    query = "one two three four five six seven eight nine ten eleven"
    assert len(selectors.article_search(query=query)) == 1


def test_fallback_one_query(fallback: None, django_assert_num_queries: Any) -> None:
    ArticleFactory(title="Gift cards", tags="gift", topic=TopicFactory(slug="gifts"))
    with django_assert_num_queries(1):
        found = selectors.article_search(query="gift card", topic_slug="gifts")
        assert [article.topic.slug for article in found] == ["gifts"]


# --- PostgreSQL full-text search ----------------------------------------------------------------


@pytest.mark.integration
def test_postgres_stems_english_words(postgres: None) -> None:
    ArticleFactory(title="Refund policy", body="We refund within five days.")
    assert titles(selectors.article_search(query="refunds")) == ["Refund policy"]
    assert titles(selectors.article_search(query="refunding")) == ["Refund policy"]


@pytest.mark.integration
def test_postgres_the_last_word_is_a_prefix_as_the_agent_types(postgres: None) -> None:
    ArticleFactory(title="Return a parcel", body="Print the label.")
    ArticleFactory(title="Delivery times", body="Two days.")
    for typed in ["retur", "print the lab", "parcel retu", "RETURN"]:
        assert titles(selectors.article_search(query=typed)) == ["Return a parcel"], typed
    # Words before the last one are whole words, and all of them must match.
    assert selectors.article_search(query="parc retur") == []
    assert selectors.article_search(query="delivery lab") == []


@pytest.mark.integration
def test_postgres_weighs_title_over_tags_over_body(postgres: None) -> None:
    ArticleFactory(title="A general page", body="Something about invoices here.")
    ArticleFactory(title="B billing page", tags="invoice", body="Other words.")
    ArticleFactory(title="C invoice copies", body="Text.")
    assert titles(selectors.article_search(query="invoice")) == [
        "C invoice copies",
        "B billing page",
        "A general page",
    ]


@pytest.mark.integration
def test_postgres_websearch_syntax(postgres: None) -> None:
    ArticleFactory(title="Return by post", body="Drop the parcel at the post office.")
    ArticleFactory(title="Return in store", body="Bring the parcel to any shop.")
    assert titles(selectors.article_search(query="return -store")) == ["Return by post"]
    assert titles(selectors.article_search(query='"post office"')) == ["Return by post"]
    assert set(titles(selectors.article_search(query="office or shop"))) == {
        "Return by post",
        "Return in store",
    }


@pytest.mark.integration
def test_postgres_topic_first_in_one_query(postgres: None, django_assert_num_queries: Any) -> None:
    billing = TopicFactory(slug="billing")
    ArticleFactory(title="Invoice copies", body="Invoice.")
    ArticleFactory(title="Payment methods", topic=billing, body="Pay by invoice.")
    with django_assert_num_queries(1):
        found = selectors.article_search(query="invoice", topic_slug="billing")
        assert [(a.title, a.topic.slug if a.topic else None) for a in found] == [
            ("Payment methods", "billing"),
            ("Invoice copies", None),
        ]


@pytest.mark.integration
def test_postgres_stop_words_and_operators_alone_find_nothing(postgres: None) -> None:
    ArticleFactory(title="The and or")
    for query in ["the and", "-", '"', "or or or", "!:*&|", "<->"]:
        assert selectors.article_search(query=query) == [], query
