"""Phrase suggestions: frequent sentence openings learned from the agent's own messages."""

import time
from typing import Any

import pytest

from cannedresponses import selectors
from cannedresponses.phrases import Phrase, learn, suggest
from chat.models import Message
from tests.factories import AgentFactory, ChatFactory, MessageFactory


def texts(phrases: list[Phrase]) -> list[str]:
    return [phrase.text for phrase in phrases]


# --- Learning (pure) ------------------------------------------------------------------------


def test_openings_seen_in_two_messages_are_learned_longest_that_always_follows() -> None:
    table = learn(
        [
            "Thanks for your patience. I am checking now.",
            "thanks for your patience! Back soon.",
            "Thanks for your order.",
            "Something else entirely here.",
        ]
    )
    assert {(p.text, p.count) for p in table} == {
        ("Thanks for your patience", 2),
        ("Thanks for your", 3),
    }


def test_an_opening_repeated_in_one_message_counts_once() -> None:
    assert learn(["Let me check that. Let me check that. Let me check that."]) == []


def test_openings_are_three_to_eight_words() -> None:
    long = "one two three four five six seven eight nine ten"
    table = learn([long, long, "Hi there", "Hi there"])
    assert texts(table) == ["one two three four five six seven eight"]


def test_sentences_stop_before_customer_data() -> None:
    table = learn(
        [
            "Your order 12345 has shipped today.",
            "Your order A-9876 has shipped today.",
            "We emailed ana@example.com the label now.",
            "We emailed bo@example.com the label now.",
            "See https://example.com/x for more details.",
            "See https://example.com/y for more details.",
        ]
    )
    assert table == []


def test_the_work_per_message_is_bounded() -> None:
    body = "word " * 100_000 + ". " * 100_000
    started = time.perf_counter()
    learn([body] * 500)
    assert time.perf_counter() - started < 2.0


# --- Suggesting (pure) ----------------------------------------------------------------------

TABLE = [
    Phrase("Thanks for your patience", "thanks for your patience", 8),
    Phrase("Thanks for waiting so long", "thanks for waiting so long", 3),
    Phrase("Thank you for contacting us", "thank you for contacting us", 5),
    Phrase("Straße ist gesperrt heute", "strasse ist gesperrt heute", 2),
]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        pytest.param(
            "thanks", ["Thanks for your patience", "Thanks for waiting so long"], id="word"
        ),
        pytest.param(
            "THANK",
            [
                "Thanks for your patience",
                "Thank you for contacting us",
                "Thanks for waiting so long",
            ],
            id="case",
        ),
        pytest.param("thank ", ["Thank you for contacting us"], id="whole-word"),
        pytest.param("Thanks   for  w", ["Thanks for waiting so long"], id="spaces"),
        pytest.param("STRASSE", ["Straße ist gesperrt heute"], id="casefold"),
        pytest.param("Thanks for your patience", [], id="nothing-to-add"),
        pytest.param("nope", [], id="no-match"),
    ],
)
def test_suggestions_continue_the_prefix(prefix: str, expected: list[str]) -> None:
    assert texts(suggest(TABLE, prefix=prefix, limit=5)) == expected


def test_an_empty_prefix_gives_the_most_frequent_and_the_limit_holds() -> None:
    assert texts(suggest(TABLE, prefix="", limit=2)) == [
        "Thanks for your patience",
        "Thank you for contacting us",
    ]


# --- From the database ----------------------------------------------------------------------


def sent(agent: Any, *bodies: str) -> None:
    chat = ChatFactory(agent=agent, status="active")
    for body in bodies:
        MessageFactory(chat=chat, kind=Message.Kind.AGENT, author=agent, body=body)


@pytest.mark.django_db
def test_only_the_agents_own_sent_messages_are_learned(agent: Any) -> None:
    sent(agent, "Let me check that for you.", "let me check that now.")
    other = AgentFactory()
    sent(other, "Let me transfer you now.", "Let me transfer you again.")
    chat = ChatFactory()
    for _ in range(2):
        MessageFactory(chat=chat, kind=Message.Kind.CUSTOMER, body="Let me speak to someone.")
    found = selectors.phrase_suggestions(agent=agent, prefix="let me", limit=5)
    assert texts(found) == ["Let me check that"]


@pytest.mark.django_db
def test_only_the_last_messages_are_read(agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "PHRASES_FROM_LAST", 2)
    sent(agent, "Old habit of mine here.", "Old habit of mine again.", "New one.", "New two.")
    assert selectors.phrase_suggestions(agent=agent, prefix="old", limit=5) == []


@pytest.mark.django_db
def test_one_query_then_none_while_cached(
    agent: Any, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    monkeypatch.setattr(selectors, "PHRASES_CACHE_SECONDS", 300)
    sent(agent, *[f"Happy to help you today, case {i}." for i in range(30)])
    try:
        with django_assert_num_queries(1):
            first = selectors.phrase_suggestions(agent=agent, prefix="happy", limit=5)
        with django_assert_num_queries(0):
            again = selectors.phrase_suggestions(agent=agent, prefix="happy to", limit=5)
        assert texts(first) == texts(again) == ["Happy to help you today, case"]
    finally:
        selectors.phrases_forget(agent_id=agent.pk)
