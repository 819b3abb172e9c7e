"""Matching a customer's question against the knowledge base: the best one or two published
articles holding enough of the question's keywords, in one query, on either database (the
full-text specifics need PostgreSQL: the `postgres` fixture skips them elsewhere)."""

from typing import Any

import pytest

from cannedresponses.answerbot import ArticleMatch, match_articles, question_keywords
from helpdesk.models import Article, Topic
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


def titles(matches: list[ArticleMatch]) -> list[str]:
    return [m.article.title for m in matches]


# --- Keywords ---------------------------------------------------------------------------------


def test_keywords_drop_common_words_numbers_and_repeats() -> None:
    assert question_keywords("Hi! Where is MY refund for order 12345? My REFUND, please") == [
        "refund",
        "order",
    ]


def test_a_question_of_only_common_words_has_no_keywords() -> None:
    assert question_keywords("Hello, can you help me please?") == []
    assert question_keywords("") == []


def test_at_most_ten_keywords_from_the_start_of_a_long_message() -> None:
    words = [f"word{chr(97 + n)}" for n in range(15)]
    assert question_keywords(" ".join(words)) == words[:10]
    # A keyword past the first 1000 characters is not read.
    assert question_keywords("x " * 500 + "refund") == []
    # Nor is a run of letters too long to be a word.
    assert question_keywords("a" * 41 + " refund") == ["refund"]


# --- Matching ---------------------------------------------------------------------------------


def test_the_best_article_first_and_at_most_the_limit(kb: dict[str, Article]) -> None:
    found = match_articles(question="When do I get my refund?", limit=2, min_match=50)
    assert titles(found)[0] == "When will I get my refund?"
    assert len(found) <= 2
    one = match_articles(question="When do I get my refund?", limit=1, min_match=50)
    assert titles(one) == ["When will I get my refund?"]


def test_unpublished_articles_are_never_offered(kb: dict[str, Article]) -> None:
    # Only the draft speaks of vouchers.
    assert match_articles(question="voucher", min_match=1) == []
    assert "Secret refund voucher policy" not in titles(
        match_articles(question="refund voucher", limit=2, min_match=1)
    )


def test_nothing_below_the_minimum_share(kb: dict[str, Article]) -> None:
    # "express" is in one article, "wrapping", "gift" and "ribbons" in none: 1 of 4 keywords.
    question = "express gift wrapping ribbons"
    assert match_articles(question=question, min_match=50) == []
    found = match_articles(question=question, min_match=25)
    assert titles(found) == ["Delivery times"]
    assert found[0].share == pytest.approx(0.25)


def test_no_keywords_no_query(kb: dict[str, Article], django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert match_articles(question="Hi, anyone there?") == []


def test_one_query_whatever_the_number_of_articles(
    kb: dict[str, Article], django_assert_num_queries: Any
) -> None:
    for n in range(20):
        ArticleFactory(title=f"Parcel tracking {n}", body="Track the parcel with its number.")
    with django_assert_num_queries(1):
        found = match_articles(question="where is my parcel", limit=2, min_match=50)
        names = [m.article.topic for m in found]  # loaded with the article, no query
    assert len(found) == 2
    assert names is not None


def test_articles_already_offered_are_left_out(kb: dict[str, Article]) -> None:
    refunds = kb["refunds"]
    found = match_articles(question="refund", limit=2, min_match=50, exclude_ids={refunds.pk})
    assert refunds.pk not in [m.article.pk for m in found]


def test_the_chats_topic_wins_a_tie(kb: dict[str, Article], topic: Topic) -> None:
    other = TopicFactory(name="Billing", slug="billing")
    ArticleFactory(title="Label printing", body="Print a label.", topic=other)
    ArticleFactory(title="Label sizes", body="Print a label.", topic=topic)
    assert titles(match_articles(question="label print", topic_slug="returns", limit=1))[0] in {
        "Label sizes",
        "How to return an item",
    }
    assert titles(match_articles(question="label print", topic_slug="billing", limit=1)) == [
        "Label printing"
    ]


def test_hostile_questions_are_only_text(kb: dict[str, Article]) -> None:
    for question in [
        "refund' OR 1=1 --",
        "refund & !return | (shipping",
        '"refund" -return or <script>alert(1)</script>',
        "refund\x00\x07 parcel",
        "ref" * 3000,
    ]:
        # No operator of the search syntax reaches the database, nothing raises.
        match_articles(question=question, limit=2, min_match=1)


# --- PostgreSQL's full-text search ---------------------------------------------------------------


@pytest.mark.integration
def test_postgres_stems_the_keywords(postgres: None, kb: dict[str, Article]) -> None:
    # "refunded" and "arriving" are in no article; their stems are ("refund", "arrive").
    found = match_articles(question="refunded arriving", limit=2, min_match=100)
    assert titles(found) == ["How to return an item"]  # "Refunds arrive within five days"
    found = match_articles(question="refunded", limit=2, min_match=100)
    assert "When will I get my refund?" in titles(found)
    assert all(m.share == 1 for m in found)


@pytest.mark.integration
def test_postgres_ranks_a_title_above_a_body(postgres: None, db: None) -> None:
    ArticleFactory(title="Gift cards", body="Buy them online.")
    ArticleFactory(title="Payment methods", body="We accept cards and gift vouchers.")
    assert titles(match_articles(question="gift cards", limit=2, min_match=100)) == [
        "Gift cards",
        "Payment methods",
    ]
