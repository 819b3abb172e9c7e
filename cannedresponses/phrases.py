"""Phrase suggestions: the openings an agent writes again and again, learned from their messages.

Pure functions (no database): `learn` turns message bodies into a small table of frequent
sentence openings, `suggest` picks those that continue what the agent is typing.

What is learned: the first 3 to 8 words of every sentence, counted once per message, kept
when seen in at least two messages. A sentence is cut before a word holding a digit, an '@' or
a web address, so order numbers, emails and links of one customer are never offered to the
next. When a longer opening always follows a shorter one (same count), only the longer is
kept: it is the one worth completing to. The work is bounded (characters and sentences read
per message, phrases kept), so one request costs little whatever the agent wrote.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import NamedTuple

MIN_WORDS = 3
MAX_WORDS = 8
MIN_COUNT = 2
MAX_CHARS_PER_MESSAGE = 2000
MAX_SENTENCES_PER_MESSAGE = 20
MAX_PHRASES = 1000

# Characters that end a sentence when they end a word ("done." but not "example.com").
_SENTENCE_END = ".!?;"


class Phrase(NamedTuple):
    text: str  # as the agent usually writes it (single spaces)
    key: str  # case-folded, for matching
    count: int  # in how many of the messages read it appears


def _private(word: str) -> bool:
    lowered = word.lower()
    return (
        any(char.isdigit() for char in word)
        or "@" in word
        or "://" in lowered
        or lowered.startswith("www.")
    )


def _sentences(body: str) -> Iterator[list[str]]:
    """The words of each sentence, without the sentence's final punctuation. A word by word
    scan (no regular expression), over the first MAX_CHARS_PER_MESSAGE characters."""
    for line in body[:MAX_CHARS_PER_MESSAGE].splitlines():
        words: list[str] = []
        for word in line.split():
            bare = word.rstrip(_SENTENCE_END)
            if bare:
                words.append(bare)
            if bare != word:
                yield words
                words = []
        if words:
            yield words


def _openings(body: str) -> Iterator[list[str]]:
    for words in islice(_sentences(body), MAX_SENTENCES_PER_MESSAGE):
        opening = words[:MAX_WORDS]
        for index, word in enumerate(opening):
            if _private(word):
                opening = opening[:index]
                break
        if len(opening) >= MIN_WORDS:
            yield opening


def _usual_form(forms: Counter[str]) -> str:
    # The most frequent; between equals, one that starts with a capital (a sentence opening).
    return max(forms.items(), key=lambda item: (item[1], item[0][:1].isupper()))[0]


def learn(bodies: Iterable[str]) -> list[Phrase]:
    """The frequent openings of these messages, most frequent first."""
    counts: Counter[str] = Counter()
    # Each opening as written, per key: it is shown the way the agent writes it most often.
    forms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for body in bodies:
        in_message: dict[str, str] = {}
        for words in _openings(body):
            folded = [word.casefold() for word in words]
            for length in range(MIN_WORDS, len(words) + 1):
                in_message.setdefault(" ".join(folded[:length]), " ".join(words[:length]))
        counts.update(in_message.keys())
        for key, form in in_message.items():
            forms[key][form] += 1
    frequent = {key: count for key, count in counts.items() if count >= MIN_COUNT}
    # The highest count among each opening's one-word-longer continuations.
    best_continuation: dict[str, int] = {}
    for key, count in frequent.items():
        parent = key.rsplit(" ", 1)[0]
        if parent != key and parent in frequent:
            best_continuation[parent] = max(best_continuation.get(parent, 0), count)
    kept = [
        Phrase(text=_usual_form(forms[key]), key=key, count=count)
        for key, count in frequent.items()
        if best_continuation.get(key, 0) < count
    ]
    kept.sort(key=lambda phrase: (-phrase.count, -len(phrase.key), phrase.key))
    return kept[:MAX_PHRASES]


def suggest(phrases: Iterable[Phrase], *, prefix: str, limit: int) -> list[Phrase]:
    """The phrases that start with `prefix` (ignoring case and runs of spaces) and add to it;
    a prefix ending with a space must end on a whole word. Most frequent first."""
    needle = " ".join(prefix.split()).casefold()
    if needle and prefix[-1:].isspace():
        needle += " "
    found = [
        phrase
        for phrase in phrases
        if phrase.key.startswith(needle) and len(phrase.key) > len(needle)
    ]
    found.sort(key=lambda phrase: (-phrase.count, -len(phrase.key), phrase.key))
    return found[:limit]
