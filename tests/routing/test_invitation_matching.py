"""Which rule invites a visit, decided by pure functions: the page, the time on it, the pages of
the visit, new or returning visitors, the rule's active hours in its own time zone, the topic's
business hours, and the priority among several rules; with when to ask again otherwise."""

from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import pytest

from helpdesk.hours import Interval, Schedule
from routing.invitations import (
    AVAILABILITY_RECHECK_SECONDS,
    RuleSpec,
    Visit,
    active_schedule,
    choose,
    parse_patterns,
    seconds_until_ready,
)

# A Wednesday, 10:00 in London (BST, UTC+1).
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
ALWAYS = Schedule(timezone="UTC")


def rule(**overrides: Any) -> RuleSpec:
    fields: dict[str, Any] = {
        "id": 1,
        "priority": 0,
        "patterns": parse_patterns("/*"),
        "min_seconds_on_page": 10,
        "min_pages_in_visit": 1,
        "visitors": "any",
        "topic_id": 7,
        "cap_hours": 24,
        "active_hours": ALWAYS,
        "topic_hours": ALWAYS,
    }
    fields.update(overrides)
    if isinstance(fields["patterns"], str):
        fields["patterns"] = parse_patterns(fields["patterns"])
    return RuleSpec(**fields)


def visit(**overrides: Any) -> Visit:
    fields: dict[str, Any] = {
        "path": "/shop/boots",
        "seconds_on_page": 10,
        "pages_in_visit": 1,
        "returning": False,
        "seconds_since_last_invitation": None,
    }
    fields.update(overrides)
    return Visit(**fields)


def everyone_available(topic_ids: set[int]) -> set[int]:
    return topic_ids


def nobody_available(topic_ids: set[int]) -> set[int]:
    return set()


# --- One rule, one condition at a time ----------------------------------------------------------


@pytest.mark.parametrize(
    "patterns, path, ready",
    [("/shop/*", "/shop/boots", True), ("/shop/*", "/help", False), ("!/shop/*", "/shop/x", False)],
)
def test_the_page_must_match(patterns: str, path: str, ready: bool) -> None:
    wait = seconds_until_ready(rule(patterns=patterns), visit(path=path), now=NOW)
    assert wait == (0 if ready else None)


@pytest.mark.parametrize("seconds, wait", [(0, 10), (4, 6), (10, 0), (500, 0)])
def test_the_time_on_the_page_says_how_long_to_wait(seconds: int, wait: int) -> None:
    assert seconds_until_ready(rule(), visit(seconds_on_page=seconds), now=NOW) == wait


@pytest.mark.parametrize("pages, ready", [(1, False), (2, False), (3, True), (9, True)])
def test_pages_seen_in_the_visit(pages: int, ready: bool) -> None:
    wait = seconds_until_ready(rule(min_pages_in_visit=3), visit(pages_in_visit=pages), now=NOW)
    assert wait == (0 if ready else None)


@pytest.mark.parametrize(
    "visitors, returning, ready",
    [
        ("any", False, True),
        ("any", True, True),
        ("new", False, True),
        ("new", True, False),
        ("returning", True, True),
        ("returning", False, False),
    ],
)
def test_new_or_returning_visitors(visitors: str, returning: bool, ready: bool) -> None:
    wait = seconds_until_ready(rule(visitors=visitors), visit(returning=returning), now=NOW)
    assert wait == (0 if ready else None)


# --- Active hours, in the rule's own time zone ---------------------------------------------------


def hours(
    days: str = "0123456", starts: str | None = None, ends: str | None = None, tz: str = "UTC"
) -> Schedule:
    return active_schedule(
        days=days,
        starts=time.fromisoformat(starts) if starts else None,
        ends=time.fromisoformat(ends) if ends else None,
        timezone=tz,
    )


@pytest.mark.parametrize(
    "schedule, ready",
    [
        (hours(), True),
        (hours(days="01234"), True),  # Wednesday is day 2
        (hours(days="56"), False),  # weekends only
        # 09:00 UTC is 10:00 in London: inside 10:00-12:00 there, outside it in UTC.
        (hours(starts="10:00", ends="12:00", tz="Europe/London"), True),
        (hours(starts="10:00", ends="12:00", tz="UTC"), False),
        # The end is excluded: 10:00 London is not in 08:00-10:00.
        (hours(starts="08:00", ends="10:00", tz="Europe/London"), False),
        # 09:00 UTC is 05:00 in New York (EDT).
        (hours(starts="05:00", ends="06:00", tz="America/New_York"), True),
        # 09:00 UTC is 18:00 in Tokyo, already Wednesday there too.
        (hours(days="2", starts="17:00", tz="Asia/Tokyo"), True),
        (hours(days="3", starts="17:00", tz="Asia/Tokyo"), False),
        # From a time to midnight (00:00 as the end).
        (hours(starts="09:00", ends="00:00"), True),
        (hours(starts="09:01", ends="00:00"), False),
    ],
)
def test_active_hours_in_the_rules_time_zone(schedule: Schedule, ready: bool) -> None:
    wait = seconds_until_ready(rule(active_hours=schedule), visit(), now=NOW)
    assert wait == (0 if ready else None)


def test_active_hours_follow_daylight_saving() -> None:
    # 09:00-10:00 on London clocks is 08:00 UTC in summer and 09:00 UTC in winter.
    schedule = hours(starts="09:00", ends="10:00", tz="Europe/London")
    summer, winter = (
        datetime(2026, 6, 10, 8, 30, tzinfo=UTC),
        datetime(2026, 1, 14, 8, 30, tzinfo=UTC),
    )
    assert seconds_until_ready(rule(active_hours=schedule), visit(), now=summer) == 0
    assert seconds_until_ready(rule(active_hours=schedule), visit(), now=winter) is None


def test_no_active_day_means_never() -> None:
    assert seconds_until_ready(rule(active_hours=hours(days="")), visit(), now=NOW) is None


def test_a_closed_topic_invites_nobody() -> None:
    closed = Schedule(
        timezone="UTC", intervals=(Interval(weekday=2, opens=time(12), closes=time(13)),)
    )
    assert seconds_until_ready(rule(topic_hours=closed), visit(), now=NOW) is None
    opened = replace(closed, intervals=(Interval(weekday=2, opens=time(8), closes=time(13)),))
    assert seconds_until_ready(rule(topic_hours=opened), visit(), now=NOW) == 0


# --- Several rules -------------------------------------------------------------------------------


def test_the_highest_priority_ready_rule_invites() -> None:
    low = rule(id=1, priority=1, topic_id=1)
    high = rule(id=2, priority=5, topic_id=2)
    decision = choose([low, high], visit(), now=NOW, available_topics=everyone_available)
    assert decision.rule == high


def test_equal_priorities_go_to_the_older_rule() -> None:
    rules = [rule(id=9, priority=3), rule(id=4, priority=3), rule(id=6, priority=3)]
    decision = choose(rules, visit(), now=NOW, available_topics=everyone_available)
    assert decision.rule is not None and decision.rule.id == 4


def test_a_rule_not_ready_yet_does_not_hold_back_a_ready_one() -> None:
    waiting = rule(id=1, priority=9, min_seconds_on_page=60)
    ready = rule(id=2, priority=1, min_seconds_on_page=5)
    decision = choose(
        [waiting, ready], visit(seconds_on_page=5), now=NOW, available_topics=everyone_available
    )
    assert decision.rule == ready


def test_a_ready_rule_without_agents_gives_way_to_the_next() -> None:
    unstaffed = rule(id=1, priority=9, topic_id=1)
    staffed = rule(id=2, priority=1, topic_id=2)
    asked: list[set[int]] = []

    def only_topic_2(topic_ids: set[int]) -> set[int]:
        asked.append(set(topic_ids))
        return topic_ids & {2}

    decision = choose([unstaffed, staffed], visit(), now=NOW, available_topics=only_topic_2)
    assert decision.rule == staffed
    assert asked == [{1, 2}]  # asked once, for every ready rule's topic


def test_nothing_ready_says_when_to_ask_again() -> None:
    rules = [rule(id=1, min_seconds_on_page=30), rule(id=2, min_seconds_on_page=12)]
    decision = choose(rules, visit(seconds_on_page=2), now=NOW, available_topics=everyone_available)
    assert decision.rule is None
    assert decision.check_again_in == 10


def test_agents_are_not_asked_while_no_rule_is_ready() -> None:
    def fail(topic_ids: set[int]) -> set[int]:
        raise AssertionError("asked for agents with no rule ready")

    decision = choose(
        [rule(min_seconds_on_page=30)], visit(seconds_on_page=0), now=NOW, available_topics=fail
    )
    assert decision.check_again_in == 30


def test_no_agent_available_asks_again_later() -> None:
    decision = choose([rule()], visit(), now=NOW, available_topics=nobody_available)
    assert decision.rule is None
    assert decision.check_again_in == AVAILABILITY_RECHECK_SECONDS


def test_a_page_no_rule_fits_is_never_asked_again() -> None:
    decision = choose(
        [rule(patterns="/shop/*")],
        visit(path="/help"),
        now=NOW,
        available_topics=everyone_available,
    )
    assert (decision.rule, decision.check_again_in) == (None, None)


def test_no_rules_no_invitation() -> None:
    decision = choose([], visit(), now=NOW, available_topics=everyone_available)
    assert (decision.rule, decision.check_again_in) == (None, None)
