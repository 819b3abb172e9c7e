"""The tone guard's matcher: every active rule in one compiled pattern, safe against ReDoS.

Rules are data typed by supervisors, so they are never regular expressions: each phrase is
escaped character by character and joined only with `\\s+` (between the words of a phrase)
or `\\.?` (between the letters of an acronym). No group is ever repeated, so matching stays
linear in the text whatever the rules (no catastrophic backtracking).

One pattern per process is cached. Saving or deleting a rule bumps a generation number in
Django's cache (shared by every process when Redis is configured); a process rebuilds its
pattern when the generation changed, and in any case after MAX_AGE_SECONDS so that a
per-process cache (locmem) cannot keep an old pattern for long.
"""

import re
import time
import uuid
from dataclasses import dataclass
from typing import TypedDict

from django.core.cache import cache

from cannedresponses.models import ToneRule

GENERATION_KEY = "cannedresponses:tone:generation"
MAX_AGE_SECONDS = 60.0

# Characters with a meaning in Python's and JavaScript's (u-mode) regular expressions. Escaping
# only these keeps one pattern valid in both: JavaScript's u mode refuses needless escapes.
_SPECIAL = frozenset("^$\\.*+?()[]{}|/")
# Word characters, the same set in both languages: Python's \w on str is letters, digits and
# "_"; the console uses the JavaScript pattern with the "giu" flags.
_PY_WORD = r"\w"
_JS_WORD = r"[\p{L}\p{N}_]"


@dataclass(frozen=True)
class Rule:
    phrase: str
    kind: str  # ToneRule.Kind value
    note: str


class Match(TypedDict):
    phrase: str
    kind: str
    note: str
    start: int  # offsets in Unicode code points of the checked text
    end: int
    text: str


def escape(text: str) -> str:
    return "".join("\\" + char if char in _SPECIAL else char for char in text)


def rule_source(phrase: str, kind: str) -> str:
    """The pattern of one rule, without its word boundaries."""
    if kind == "acronym":
        # "asap" also matches "a.s.a.p" and "A.S.A.P." (the final dot stays outside).
        return r"\.?".join(escape(char) for char in phrase.replace(".", ""))
    # Words, whatever whitespace separates them in the text.
    return r"\s+".join(escape(word) for word in phrase.split())


def js_pattern(phrase: str, kind: str) -> str:
    """The rule as a JavaScript regular expression source, for `new RegExp(p, "giu")`."""
    return f"(?<!{_JS_WORD})(?:{rule_source(phrase, kind)})(?!{_JS_WORD})"


def _first_char(phrase: str, kind: str) -> str:
    text = phrase.replace(".", "") if kind == "acronym" else phrase.strip()
    return text[:1]


class Matcher:
    r"""All rules in one pattern, grouped by their first character.

    The pattern is `(?<!\w)(?=[first characters])(?:c(?:alm\s+down|...)|l(?:ol)|...)(?!\w)`:
    at most positions of a text the engine fails on one character-class test, and where a
    rule may start it tries only the rules sharing that first character, not all of them.
    """

    def __init__(self, rules: list[Rule]) -> None:
        # Longest first: at one position "i don't know" wins over a rule for "know".
        self.rules = sorted(
            (rule for rule in rules if _first_char(rule.phrase, rule.kind)),
            key=lambda rule: (-len(rule.phrase), rule.phrase),
        )
        self.pattern: re.Pattern[str] | None = None
        if not self.rules:
            return
        # First character (any case: the pattern ignores case) -> the rest of each rule.
        groups: dict[str, tuple[str, list[str]]] = {}
        for index, rule in enumerate(self.rules):
            first = _first_char(rule.phrase, rule.kind)
            rest = rule_source(rule.phrase, rule.kind)[len(escape(first)) :]
            groups.setdefault(first.lower(), (first, []))[1].append(f"(?P<r{index}>{rest})")
        alternatives = "|".join(
            f"{escape(first)}(?:{'|'.join(rests)})" for first, rests in groups.values()
        )
        starts = "".join(re.escape(first) for first, _rests in groups.values())
        self.pattern = re.compile(
            f"(?<!{_PY_WORD})(?=[{starts}])(?:{alternatives})(?!{_PY_WORD})", re.IGNORECASE
        )

    def matches(self, text: str) -> list[Match]:
        if self.pattern is None:
            return []
        found: list[Match] = []
        for hit in self.pattern.finditer(text):
            rule = self.rules[int((hit.lastgroup or "r0")[1:])]
            found.append(
                Match(
                    phrase=rule.phrase,
                    kind=rule.kind,
                    note=rule.note,
                    start=hit.start(),
                    end=hit.end(),
                    text=hit.group(),
                )
            )
        return found


@dataclass(frozen=True)
class _Cached:
    generation: str
    built_at: float
    matcher: Matcher


_cached: _Cached | None = None


def _generation() -> str:
    return str(cache.get_or_set(GENERATION_KEY, uuid.uuid4().hex, timeout=None))


def invalidate() -> None:
    """Every process rebuilds its pattern at its next check (call after commit)."""
    global _cached
    _cached = None
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def active_matcher() -> Matcher:
    """The matcher of the active rules: no query while the cached one is current."""
    global _cached
    generation = _generation()
    current = _cached
    if (
        current is not None
        and current.generation == generation
        and time.monotonic() - current.built_at < MAX_AGE_SECONDS
    ):
        return current.matcher
    rules = [
        Rule(phrase=phrase, kind=kind, note=note)
        for phrase, kind, note in ToneRule.objects.filter(is_active=True).values_list(
            "phrase", "kind", "note"
        )
    ]
    matcher = Matcher(rules)
    _cached = _Cached(generation=generation, built_at=time.monotonic(), matcher=matcher)
    return matcher
