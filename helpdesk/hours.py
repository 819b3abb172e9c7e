"""Business hours: is a topic open at a moment, and when does it open next.

Pure functions over plain data (a time zone name and weekly intervals), so the queue, the
public API and the customer page can all ask without touching the database more than once.
A topic's intervals are wall-clock times in the topic's IANA time zone: 09:00 means nine on
the clock there, whatever the UTC offset of the day (daylight saving time included).
"""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.db.models import Aggregate, CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat

from helpdesk.models import MIDNIGHT, BusinessHours, Topic

# The name of the annotation that carries a topic's packed hours (`packed_hours()`).
PACKED_HOURS = "packed_hours"
# Far enough to find the next opening of any weekly schedule from any moment of a week, even
# when a daylight saving gap swallows this week's only interval.
_SEARCH_DAYS = 15


@dataclass(frozen=True)
class Interval:
    weekday: int  # Monday 0 ... Sunday 6, like datetime.weekday()
    opens: time
    closes: time  # MIDNIGHT: the end of the day

    def contains(self, wall: time) -> bool:
        return self.opens <= wall and (self.closes == MIDNIGHT or wall < self.closes)


@dataclass(frozen=True)
class Schedule:
    """A topic's week: no intervals means always open."""

    timezone: str
    intervals: tuple[Interval, ...] = ()

    @property
    def always_open(self) -> bool:
        return not self.intervals

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        local = at.astimezone(_zone(self.timezone))
        wall = local.time().replace(tzinfo=None)
        return any(i.weekday == local.weekday() and i.contains(wall) for i in self.intervals)

    def next_opening(self, at: datetime) -> datetime | None:
        """When the topic next opens after `at`, in its own time zone; None when it is open
        at `at` (or always open)."""
        if self.is_open(at):
            return None
        zone = _zone(self.timezone)
        today = at.astimezone(zone).date()
        candidates = [
            opening
            for offset in range(_SEARCH_DAYS)
            for opening in self._openings_on(today + timedelta(days=offset), zone)
            if opening > at
        ]
        return min(candidates, default=None)

    def _openings_on(self, day: date, zone: zoneinfo.ZoneInfo) -> list[datetime]:
        openings = []
        for interval in self.intervals:
            if interval.weekday != day.weekday():
                continue
            opening = first_instant_at(day, interval.opens, zone)
            # A gap can skip a whole short interval (01:10-01:50 on the spring change day).
            if self.is_open(opening):
                openings.append(opening)
        return openings


def first_instant_at(day: date, wall: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """The first moment the clocks of `zone` show `wall` or later on `day`.

    Usually `wall` itself; a wall time the clocks pass twice (autumn) counts at its first
    passing (fold=0); one they skip (spring) opens when the clocks jump past it, the end of
    the gap, which is also the first moment `Schedule.is_open` says open.
    """
    wanted = datetime.combine(day, wall)
    first = wanted.replace(tzinfo=zone)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wanted:
        return first
    # In a gap: fold=1 reads it with the offset after the change (an instant before the
    # gap), fold=0 with the one before (after the gap). Bisect between them to the second.
    low = int(wanted.replace(tzinfo=zone, fold=1).timestamp())
    high = int(wanted.replace(tzinfo=zone, fold=0).timestamp())
    if low > high:  # pragma: no cover - a zone whose clocks go forward have low < high
        low, high = high, low
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wanted:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, zone)


@lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def schedule_of(topic: Topic) -> Schedule:
    """The topic's schedule. A topic read with the `packed_hours` annotation (see
    `helpdesk.selectors`) needs no query; otherwise its rows are read (or the prefetched)."""
    if hasattr(topic, PACKED_HOURS):
        return schedule_from_packed(topic.timezone, getattr(topic, PACKED_HOURS))
    return Schedule(
        timezone=topic.timezone,
        intervals=tuple(
            Interval(weekday=h.weekday, opens=h.opens, closes=h.closes)
            for h in topic.business_hours.all()
        ),
    )


def schedules_for(topics: Iterable[tuple[int, str]]) -> dict[int, Schedule]:
    """Schedules of many topics, given as (id, time zone) pairs, in one query."""
    zones = dict(topics)
    intervals: dict[int, list[Interval]] = {topic_id: [] for topic_id in zones}
    if not zones:
        return {}
    rows = BusinessHours.objects.filter(topic_id__in=list(zones)).values_list(
        "topic_id", "weekday", "opens", "closes"
    )
    for topic_id, weekday, opens, closes in rows:
        intervals[topic_id].append(Interval(weekday=weekday, opens=opens, closes=closes))
    return {
        topic_id: Schedule(timezone=zones[topic_id], intervals=tuple(intervals[topic_id]))
        for topic_id in zones
    }


class _Joined(Aggregate):
    """The group's strings joined with commas: GROUP_CONCAT (SQLite), STRING_AGG (PostgreSQL).

    Django 5.2 has no portable string aggregate; this one lets a list read fold a topic's
    whole week into the row it already fetches instead of a query of its own.
    """

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(expressions)s, ',')",
            **extra,
        )


def packed_hours(topic_ref: str = "topic_id") -> Subquery:
    """A subquery for a queryset's rows: the business hours of the row's topic (`topic_ref`),
    packed as "weekday opens closes" items joined by commas, or NULL for none. Read it back
    with `schedule_from_packed`."""
    item = Concat(
        Cast("weekday", CharField()),
        Value(" "),
        Cast("opens", CharField()),
        Value(" "),
        Cast("closes", CharField()),
        output_field=CharField(),
    )
    return Subquery(
        BusinessHours.objects.filter(topic_id=OuterRef(topic_ref))
        .order_by()
        .values("topic_id")
        .annotate(packed=_Joined(item))
        .values("packed")[:1],
        output_field=CharField(),
    )


def schedule_from_packed(timezone: str, packed: str | None) -> Schedule:
    intervals = []
    for item in (packed or "").split(","):
        if not item:
            continue
        weekday, opens, closes = item.split(" ")
        intervals.append(
            Interval(
                weekday=int(weekday),
                opens=time.fromisoformat(opens),
                closes=time.fromisoformat(closes),
            )
        )
    return Schedule(timezone=timezone, intervals=tuple(intervals))


def is_open(topic: Topic, at: datetime) -> bool:
    """Is the topic open at this moment (an aware datetime)?"""
    return schedule_of(topic).is_open(at)


def next_opening(topic: Topic, at: datetime) -> datetime | None:
    """When the topic next opens after `at` (aware, in the topic's zone); None if open."""
    return schedule_of(topic).next_opening(at)


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _clock(value: time, *, closing: bool = False) -> str:
    return "24:00" if closing and value == MIDNIGHT else f"{value:%H:%M}"


def week_summary(schedule: Schedule) -> str:
    """The week in one line for list screens, e.g. "Mon-Fri 09:00-12:00, 13:00-17:00; Sat
    10:00-14:00": consecutive days with the same intervals share one entry, closed days are
    left out. No intervals at all: "always open"."""
    if schedule.always_open:
        return "always open"
    days: dict[int, list[str]] = {}
    for interval in sorted(schedule.intervals, key=lambda i: (i.weekday, i.opens)):
        span = f"{_clock(interval.opens)}-{_clock(interval.closes, closing=True)}"
        days.setdefault(interval.weekday, []).append(span)
    runs: list[tuple[int, int, list[str]]] = []  # first day, last day, the day's intervals
    for weekday in sorted(days):
        if runs and runs[-1][1] == weekday - 1 and runs[-1][2] == days[weekday]:
            runs[-1] = (runs[-1][0], weekday, runs[-1][2])
        else:
            runs.append((weekday, weekday, days[weekday]))
    entries = []
    for first, last, spans in runs:
        names = _DAY_NAMES[first] if first == last else f"{_DAY_NAMES[first]}-{_DAY_NAMES[last]}"
        entries.append(f"{names} {', '.join(spans)}")
    return "; ".join(entries)
