"""Proactive chat invitations: which rule, if any, invites this visitor now (docs/invitations.md).

Pure functions over plain data, so every condition is tested without a database: the URL
pattern language (parsed and validated once, matched in linear time), the visit's conditions
(time on page, pages seen, new or returning visitor), the rule's active hours, the cap (one
invitation per visitor per the rule's period) and the choice between several rules. Only the
availability of the topics' agents needs the database; the caller hands it in as a function,
asked at most once per decision and only when some rule is ready.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from urllib.parse import unquote

from helpdesk.hours import Interval, Schedule
from helpdesk.models import MIDNIGHT

# --- The pattern language -----------------------------------------------------------------------
#
# One pattern a line, matched against the page's path (never its query string or fragment):
#   /shop/boots      exactly that path
#   /shop/*          "*" stands for any run of characters, "/" included, or none: /shop/,
#                    /shop/boots, /shop/boots/42
#   !/shop/checkout* a leading "!" excludes: no invitation on a path it matches
# A rule with only exclusions applies to every other path. Case counts, as in URLs. No regular
# expressions: a "*"-only glob is matched by finding its literal pieces left to right (str.find),
# linear in the path whatever the pattern, so no pattern can make the check slow.

MAX_PATTERNS = 20
MAX_PATTERN_LENGTH = 200
MAX_PATH_LENGTH = 2000
# Characters that mean something in a regular expression (or the query/fragment of a URL) and
# nothing in ours: a pattern holding one was almost certainly meant as something we do not do.
_REGEX_CHARACTERS = frozenset("\\^$()[]{}|+")


class PatternError(ValueError):
    """A pattern the admin must refuse; the message says what to write instead."""


@dataclass(frozen=True)
class PathPattern:
    text: str  # as the supervisor wrote it, "!" included
    pieces: tuple[str, ...]  # the literal parts around the "*"s, percent-decoded
    exclude: bool

    def matches(self, path: str) -> bool:
        return glob_match(self.pieces, path)


@dataclass(frozen=True)
class PathPatterns:
    include: tuple[PathPattern, ...]
    exclude: tuple[PathPattern, ...]

    def matches(self, path: str) -> bool:
        """The path (percent-decoded) is matched by an inclusion (or there are none) and by no
        exclusion."""
        path = normalise_path(path)
        if any(p.matches(path) for p in self.exclude):
            return False
        return not self.include or any(p.matches(path) for p in self.include)


def normalise_path(path: str) -> str:
    # Browsers send location.pathname percent-encoded ("/gr%C3%B6%C3%9Fen"); supervisors type
    # "/größen". Both are compared decoded.
    return unquote(path, errors="replace")


def glob_match(pieces: tuple[str, ...], path: str) -> bool:
    """Does `path` match the glob whose literal parts around its "*"s are `pieces`?

    The first piece must start the path and the last end it; the ones between are found left
    to right, each as early as possible (for "*"-only globs the earliest match is never
    worse than a later one, so nothing is ever retried).
    """
    if len(pieces) == 1:
        return path == pieces[0]
    first, *middle, last = pieces
    if len(first) + len(last) > len(path):
        return False
    if not (path.startswith(first) and path.endswith(last)):
        return False
    position, end = len(first), len(path) - len(last)
    for piece in middle:
        if not piece:
            continue
        found = path.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def parse_pattern(text: str) -> PathPattern:
    """One pattern, validated; raises PatternError with a message for the supervisor."""
    exclude = text.startswith("!")
    body = text[1:] if exclude else text
    if len(text) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"“{text[:40]}…” is too long: a pattern has at most {MAX_PATTERN_LENGTH} characters."
        )
    if ".*" in body or any(c in _REGEX_CHARACTERS for c in body):
        raise PatternError(
            f"“{text}” looks like a regular expression. Patterns are paths with * as the only "
            "wildcard, e.g. /shop/* or /help/*/returns."
        )
    if not body.startswith("/"):
        raise PatternError(
            f"“{text}” must start with “/” (a path like /shop/*, or !/checkout/* to exclude); "
            "the site's address is not part of it."
        )
    if "?" in body or "#" in body:
        raise PatternError(
            f"“{text}” holds “?” or “#”: patterns match the path only, never the query string "
            "or the fragment."
        )
    if any(c.isspace() or not c.isprintable() for c in body):
        raise PatternError(f"“{text}” holds blanks or invisible characters.")
    decoded = normalise_path(body)
    # "**" is "*": collapsing keeps every piece but the first and last non-empty.
    while "**" in decoded:
        decoded = decoded.replace("**", "*")
    return PathPattern(text=text, pieces=tuple(decoded.split("*")), exclude=exclude)


def pattern_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@lru_cache(maxsize=1024)
def parse_patterns(text: str) -> PathPatterns:
    """Every line of a rule's `url_patterns`; raises PatternError on the first bad one, or when
    there is none, or too many. Cached: the check parses the same few texts again and again."""
    lines = pattern_lines(text)
    if not lines:
        raise PatternError("Give at least one pattern, e.g. /* for every page.")
    if len(lines) > MAX_PATTERNS:
        raise PatternError(f"Give at most {MAX_PATTERNS} patterns.")
    parsed = [parse_pattern(line) for line in lines]
    return PathPatterns(
        include=tuple(p for p in parsed if not p.exclude),
        exclude=tuple(p for p in parsed if p.exclude),
    )


# --- Rules and visits ---------------------------------------------------------------------------

# Who a rule invites (InvitationRule.visitors).
VISITORS_ANY = "any"
VISITORS_NEW = "new"
VISITORS_RETURNING = "returning"
# When a ready rule's topic has no agent available, the widget is told to ask again this much
# later (it asks a few times per page at most): agents come back online.
AVAILABILITY_RECHECK_SECONDS = 60
ALL_WEEK = "0123456"


@dataclass(frozen=True)
class Visit:
    """What the widget tells about the visitor: nothing personal, only what rules need."""

    path: str
    seconds_on_page: int
    pages_in_visit: int
    returning: bool
    # Measured by the visitor's own clock since the last invitation it was shown (any rule);
    # None: never invited (or the widget forgot).
    seconds_since_last_invitation: int | None = None


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the decision needs it (routing.invitation_selectors builds them)."""

    id: int
    priority: int
    patterns: PathPatterns
    min_seconds_on_page: int
    min_pages_in_visit: int
    visitors: str
    topic_id: int
    cap_hours: int
    active_hours: Schedule
    topic_hours: Schedule


def active_schedule(
    *, days: str, starts: time | None, ends: time | None, timezone: str
) -> Schedule:
    """A rule's active hours as a weekly schedule (helpdesk.hours: wall-clock times in the
    zone, daylight saving included). No times: the whole of each chosen day; `ends` 00:00 is
    midnight. No day at all: never (not "always", which an empty Schedule means)."""
    starts = starts or time(0, 0)
    ends = MIDNIGHT if ends is None else ends
    intervals = tuple(
        Interval(weekday=int(day), opens=starts, closes=ends) for day in sorted(set(days))
    )
    if not intervals:
        # An interval that contains nothing: an empty tuple would read as "always open".
        intervals = (Interval(weekday=0, opens=time(0, 0, 1), closes=time(0, 0, 1)),)
    return Schedule(timezone=timezone, intervals=intervals)


def is_capped(*, cap_hours: int, seconds_since_last_invitation: int | None) -> bool:
    """The visitor was shown an invitation less than the rule's period ago."""
    if seconds_since_last_invitation is None:
        return False
    return seconds_since_last_invitation < cap_hours * 3600


def visitor_fits(visitors: str, *, returning: bool) -> bool:
    if visitors == VISITORS_NEW:
        return not returning
    if visitors == VISITORS_RETURNING:
        return returning
    return True


def seconds_until_ready(rule: RuleSpec, visit: Visit, *, now: datetime) -> int | None:
    """How long this visitor must stay on this page before the rule invites them: 0 now, a
    number of seconds, or None when it never will on this page (its path, pages, kind of
    visitor, cap, active hours or topic's business hours say no). Agents are not asked here."""
    if not rule.patterns.matches(visit.path):
        return None
    if visit.pages_in_visit < rule.min_pages_in_visit:
        return None
    if not visitor_fits(rule.visitors, returning=visit.returning):
        return None
    if is_capped(
        cap_hours=rule.cap_hours, seconds_since_last_invitation=visit.seconds_since_last_invitation
    ):
        return None
    # Never invite to a chat the topic could not open (409 topic_closed).
    if not (rule.active_hours.is_open(now) and rule.topic_hours.is_open(now)):
        return None
    return max(rule.min_seconds_on_page - visit.seconds_on_page, 0)


@dataclass(frozen=True)
class Decision:
    rule: RuleSpec | None
    # When the widget should ask again on this page (seconds), or None: not on this page.
    check_again_in: int | None


def by_priority(rules: Iterable[RuleSpec]) -> list[RuleSpec]:
    """Higher priority first; equal priorities: the older rule (lower id) first."""
    return sorted(rules, key=lambda r: (-r.priority, r.id))


def choose(
    rules: Iterable[RuleSpec],
    visit: Visit,
    *,
    now: datetime,
    available_topics: Callable[[set[int]], set[int]],
) -> Decision:
    """The invitation to show now: among the rules ready for this visit, the first by priority
    whose topic has an agent available. Otherwise when to ask again: when the next rule becomes
    ready on this page, or (a ready rule lacking agents) AVAILABILITY_RECHECK_SECONDS later.

    `available_topics(topic_ids)` returns those of the topics with an agent available; it is
    called once at most, and only when some rule is ready.
    """
    ready: list[RuleSpec] = []
    later: list[int] = []
    for rule in by_priority(rules):
        wait = seconds_until_ready(rule, visit, now=now)
        if wait == 0:
            ready.append(rule)
        elif wait is not None:
            later.append(wait)
    if ready:
        available = available_topics({rule.topic_id for rule in ready})
        for rule in ready:
            if rule.topic_id in available:
                return Decision(rule=rule, check_again_in=None)
        later.append(AVAILABILITY_RECHECK_SECONDS)
    return Decision(rule=None, check_again_in=min(later, default=None))
