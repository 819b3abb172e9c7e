"""The tone guard: whole words, any case, Unicode-aware, ReDoS-safe, one cached pattern."""

import re
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from cannedresponses import tone
from cannedresponses.models import ToneRule
from cannedresponses.selectors import tone_matches
from cannedresponses.tone import Matcher, Rule, js_pattern
from tests.factories import ToneRuleFactory


def spans(matcher: Matcher, text: str) -> list[tuple[str, str]]:
    return [(match["phrase"], match["text"]) for match in matcher.matches(text)]


RULES = Matcher(
    [
        Rule("lol", "word", "No chat slang."),
        Rule("idk", "acronym", 'Say "I don\'t know yet, let me check".'),
        Rule("asap", "acronym", "Give a time."),
        Rule("calm down", "phrase", "Acknowledge the feeling."),
        Rule("know", "word", ""),
        Rule("i don't know", "phrase", "Say what you will do."),
        Rule("façade", "word", ""),
        Rule("(a+)+$", "word", ""),
    ]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("LOL that's funny", [("lol", "LOL")], id="case"),
        pytest.param("lollipop, trolol", [], id="inside-words"),
        pytest.param("lol_x x_lol lol1", [], id="underscore-digit-are-word"),
        pytest.param("(lol).", [("lol", "lol")], id="punctuation-around"),
        pytest.param(
            "Idk, I.D.K. or i.d.k",
            [("idk", "Idk"), ("idk", "I.D.K"), ("idk", "i.d.k")],
            id="acronym-dots",
        ),
        pytest.param("ASAP!", [("asap", "ASAP")], id="acronym-case"),
        pytest.param("Please calm\n   down", [("calm down", "calm\n   down")], id="phrase-spaces"),
        pytest.param("calmdown", [], id="phrase-glued"),
        pytest.param("I don't know", [("i don't know", "I don't know")], id="longest-first"),
        pytest.param("you know", [("know", "know")], id="shorter-alone"),
        pytest.param("FAÇADE", [("façade", "FAÇADE")], id="unicode-case"),
        pytest.param("façades", [], id="unicode-boundary"),
        pytest.param("élol lolé", [], id="unicode-letters-are-word"),
        pytest.param("aaaa", [], id="regex-syntax-is-literal"),
        pytest.param("x (a+)+$ y", [("(a+)+$", "(a+)+$")], id="regex-syntax-matches-itself"),
    ],
)
def test_whole_words_ignoring_case(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(RULES, text) == expected


def test_a_match_says_where_and_what_to_say_instead() -> None:
    [match] = RULES.matches("ok 🙂 lol")
    assert match == {
        "phrase": "lol",
        "kind": "word",
        "note": "No chat slang.",
        "start": 5,  # code points: the emoji counts as one
        "end": 8,
        "text": "lol",
    }


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("calm" + " " * 100_000 + "x", id="whitespace-run"),
        pytest.param("i.d." * 25_000, id="dots"),
        pytest.param("a" * 100_000, id="one-long-word"),
        pytest.param("calm " * 20_000, id="many-partial-phrases"),
    ],
)
def test_hostile_texts_are_matched_in_linear_time(text: str) -> None:
    many = Matcher([Rule(f"word{i} calm down", "phrase", "") for i in range(300)] + RULES.rules)
    started = time.perf_counter()
    many.matches(text)
    assert time.perf_counter() - started < 1.0


def test_no_rules_no_matches() -> None:
    assert Matcher([]).matches("lol") == []


def test_the_javascript_pattern_escapes_only_what_both_languages_need() -> None:
    assert js_pattern("calm down", "phrase") == (
        r"(?<![\p{L}\p{N}_])(?:calm\s+down)(?![\p{L}\p{N}_])"
    )
    assert js_pattern("asap", "acronym") == r"(?<![\p{L}\p{N}_])(?:a\.?s\.?a\.?p)(?![\p{L}\p{N}_])"
    body = js_pattern("(a+)+$ / x-y #1", "phrase")
    assert r"\(a\+\)\+\$\s+\/\s+x-y\s+#1" in body
    # The same body is a valid Python pattern matching the phrase itself.
    assert re.fullmatch(tone.rule_source("(a+)+$ / x-y #1", "phrase"), "(a+)+$ / x-y #1")


# --- Rules in the database ------------------------------------------------------------------


@pytest.mark.django_db
def test_only_active_rules_match() -> None:
    ToneRuleFactory(phrase="lol", note="No chat slang.")
    ToneRuleFactory(phrase="meh", is_active=False)
    assert [(m["phrase"], m["note"]) for m in tone_matches("lol meh")] == [
        ("lol", "No chat slang.")
    ]


@pytest.mark.django_db
def test_the_pattern_is_cached_and_rebuilt_after_a_rule_changes(
    django_assert_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rule = ToneRuleFactory(phrase="lol")
    with django_assert_num_queries(1):
        assert len(tone_matches("lol")) == 1
    with django_assert_num_queries(0):
        assert len(tone_matches("lol lol")) == 2
    with django_capture_on_commit_callbacks(execute=True):
        ToneRuleFactory(phrase="meh")
    with django_assert_num_queries(1):
        assert len(tone_matches("lol meh")) == 2
    with django_capture_on_commit_callbacks(execute=True):
        rule.is_active = False
        rule.save()
    assert [m["phrase"] for m in tone_matches("lol meh")] == ["meh"]
    with django_capture_on_commit_callbacks(execute=True):
        ToneRule.objects.filter(phrase="meh").delete()
    assert tone_matches("lol meh") == []


@pytest.mark.django_db
def test_another_process_rebuilds_when_the_shared_generation_changes() -> None:
    ToneRuleFactory(phrase="lol")
    assert len(tone_matches("lol")) == 1
    ToneRule.objects.update(is_active=False)  # no signal: as seen from another process
    assert len(tone_matches("lol")) == 1  # still the cached pattern
    from django.core.cache import cache

    cache.set(tone.GENERATION_KEY, "bumped-elsewhere", timeout=None)
    assert tone_matches("lol") == []


@pytest.mark.django_db
def test_a_stale_pattern_expires_anyway(monkeypatch: pytest.MonkeyPatch) -> None:
    ToneRuleFactory(phrase="lol")
    assert len(tone_matches("lol")) == 1
    ToneRule.objects.update(is_active=False)
    monkeypatch.setattr(tone, "MAX_AGE_SECONDS", 0.0)
    assert tone_matches("lol") == []


# --- Validation of rules --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phrase", "kind", "field"),
    [
        pytest.param("   ", "word", "phrase", id="blank"),
        pytest.param("two words", "word", "kind", id="word-with-space"),
        pytest.param("single", "phrase", "kind", id="phrase-of-one-word"),
        pytest.param("a-s-a-p", "acronym", "phrase", id="acronym-punctuation"),
        pytest.param("x" * 101, "word", "phrase", id="too-long"),
        pytest.param("a\x00b", "word", "phrase", id="nul"),
    ],
)
def test_bad_rules_are_refused(phrase: str, kind: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ToneRule(phrase=phrase, kind=kind).full_clean()
    assert field in caught.value.message_dict


@pytest.mark.django_db
def test_rules_are_normalised_and_unique_ignoring_case() -> None:
    rule = ToneRule(phrase="  calm    down ", kind="phrase")
    rule.full_clean()
    assert rule.phrase == "calm down"
    acronym = ToneRule(phrase="A.S.A.P.", kind="acronym")
    acronym.full_clean()
    assert acronym.phrase == "ASAP"
    acronym.save()
    with pytest.raises(ValidationError, match="already a rule for this phrase"):
        ToneRule(phrase="asap", kind="acronym").full_clean()
