"""Business hours per topic: wall-clock intervals in the topic's IANA time zone, correct across
daylight saving changes; no hours at all means always open."""

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from helpdesk import hours
from helpdesk.hours import Interval, Schedule, first_instant_at
from helpdesk.models import BusinessHours, Topic
from helpdesk.selectors import topic_list_active_with_availability
from tests.factories import BusinessHoursFactory, TopicFactory

MON, TUE, SAT, SUN = 0, 1, 5, 6


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def week(timezone: str, *intervals: tuple[int, str, str]) -> Schedule:
    return Schedule(
        timezone=timezone,
        intervals=tuple(
            Interval(weekday=d, opens=time.fromisoformat(o), closes=time.fromisoformat(c))
            for d, o, c in intervals
        ),
    )


# --- Pure schedule ------------------------------------------------------------------------------


def test_no_intervals_is_always_open() -> None:
    schedule = week("Europe/London")
    assert schedule.is_open(utc(2026, 1, 4, 3, 0))  # a Sunday night
    assert schedule.next_opening(utc(2026, 1, 4, 3, 0)) is None


def test_the_interval_is_read_on_the_topics_own_clock_summer_and_winter() -> None:
    london = week("Europe/London", (MON, "09:00", "17:00"))
    # Winter (GMT = UTC): 09:00 in London is 09:00 UTC.
    assert not london.is_open(utc(2026, 1, 12, 8, 59))
    assert london.is_open(utc(2026, 1, 12, 9, 0))
    # Summer (BST = UTC+1): 09:00 in London is 08:00 UTC.
    assert london.is_open(utc(2026, 6, 1, 8, 0))
    assert not london.is_open(utc(2026, 6, 1, 7, 59))
    # Closing time is exclusive: 17:00 BST is 16:00 UTC.
    assert london.is_open(utc(2026, 6, 1, 15, 59))
    assert not london.is_open(utc(2026, 6, 1, 16, 0))


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    at = utc(2026, 1, 12, 15, 0)  # Monday 15:00 UTC = 10:00 in New York, 00:00 Tue in Tokyo
    assert week("America/New_York", (MON, "09:00", "17:00")).is_open(at)
    assert not week("Asia/Tokyo", (MON, "09:00", "17:00")).is_open(at)
    assert week("Asia/Tokyo", (TUE, "00:00", "08:00")).is_open(at)


def test_several_intervals_a_day_leave_the_lunch_break_closed() -> None:
    schedule = week("UTC", (MON, "09:00", "12:00"), (MON, "13:00", "17:00"))
    assert schedule.is_open(utc(2026, 1, 12, 11, 59))
    assert not schedule.is_open(utc(2026, 1, 12, 12, 30))
    assert schedule.next_opening(utc(2026, 1, 12, 12, 30)) == utc(2026, 1, 12, 13, 0)
    assert schedule.is_open(utc(2026, 1, 12, 13, 0))


def test_closing_at_midnight_runs_to_the_end_of_the_day() -> None:
    schedule = week("UTC", (SAT, "18:00", "00:00"), (SUN, "00:00", "02:00"))
    assert schedule.is_open(utc(2026, 1, 10, 23, 59, 59))
    assert schedule.is_open(utc(2026, 1, 11, 0, 0))
    assert not schedule.is_open(utc(2026, 1, 11, 2, 0))


def test_open_now_has_no_next_opening() -> None:
    schedule = week("UTC", (MON, "09:00", "17:00"))
    assert schedule.next_opening(utc(2026, 1, 12, 10, 0)) is None


def test_next_opening_later_today_tomorrow_or_next_week() -> None:
    schedule = week("UTC", (MON, "09:00", "17:00"), (TUE, "10:00", "11:00"))
    assert schedule.next_opening(utc(2026, 1, 12, 7, 0)) == utc(2026, 1, 12, 9, 0)
    assert schedule.next_opening(utc(2026, 1, 12, 17, 0)) == utc(2026, 1, 13, 10, 0)
    # Tuesday after closing: next Monday, almost a week away.
    assert schedule.next_opening(utc(2026, 1, 13, 11, 0)) == utc(2026, 1, 19, 9, 0)


def test_next_opening_over_the_spring_change_in_london() -> None:
    """Clocks go forward on Sunday 29 March 2026 (01:00 GMT -> 02:00 BST). Friday evening,
    Monday's 09:00 is 08:00 UTC, not the 09:00 UTC a fixed offset would say."""
    london = week("Europe/London", (MON, "09:00", "17:00"))
    friday_evening = utc(2026, 3, 27, 18, 0)
    opens = london.next_opening(friday_evening)
    assert opens == utc(2026, 3, 30, 8, 0)
    assert opens.isoformat() == "2026-03-30T09:00:00+01:00"
    assert london.is_open(opens)
    assert not london.is_open(utc(2026, 3, 30, 7, 59, 59))


def test_next_opening_over_the_autumn_change_in_london() -> None:
    """Clocks go back on Sunday 25 October 2026 (02:00 BST -> 01:00 GMT)."""
    london = week("Europe/London", (MON, "09:00", "17:00"))
    opens = london.next_opening(utc(2026, 10, 23, 17, 0))  # Friday 18:00 BST
    assert opens == utc(2026, 10, 26, 9, 0)
    assert opens.isoformat() == "2026-10-26T09:00:00+00:00"


def test_an_opening_inside_the_spring_gap_opens_when_the_clocks_jump() -> None:
    """New York, Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT (07:00 UTC). An interval
    from 02:30 opens at the jump, the first moment the clocks show 02:30 or later."""
    new_york = week("America/New_York", (SUN, "02:30", "05:00"))
    before = utc(2026, 3, 8, 6, 0)  # 01:00 EST
    assert not new_york.is_open(before)
    assert new_york.next_opening(before) == utc(2026, 3, 8, 7, 0)
    assert not new_york.is_open(utc(2026, 3, 8, 6, 59, 59))
    assert new_york.is_open(utc(2026, 3, 8, 7, 0))


def test_a_wall_time_passed_twice_opens_at_its_first_passing() -> None:
    """New York, Sunday 1 November 2026: 01:30 happens at 05:30 UTC (EDT), then 06:30 (EST)."""
    zone = hours._zone("America/New_York")
    # Compared in UTC: Python never finds a time in a fold equal to one of another zone.
    first = first_instant_at(date(2026, 11, 1), time(1, 30), zone)
    assert first.astimezone(UTC) == utc(2026, 11, 1, 5, 30)
    assert first.isoformat() == "2026-11-01T01:30:00-04:00"
    new_york = week("America/New_York", (SUN, "01:30", "01:45"))
    opens = new_york.next_opening(utc(2026, 11, 1, 5, 0))
    assert opens is not None
    assert opens.astimezone(UTC) == utc(2026, 11, 1, 5, 30)
    # Wall-clock hours: the repeated quarter of an hour is open both times.
    assert new_york.is_open(utc(2026, 11, 1, 5, 40))
    assert not new_york.is_open(utc(2026, 11, 1, 6, 0))
    assert new_york.is_open(utc(2026, 11, 1, 6, 40))


def test_an_interval_swallowed_by_the_spring_gap_never_opens_that_day() -> None:
    london = week("Europe/London", (SUN, "01:10", "01:50"))
    # From Saturday: not that Sunday (01:10-01:50 do not exist), the next one.
    assert london.next_opening(utc(2026, 3, 28, 12, 0)) == utc(2026, 4, 5, 0, 10)


# --- Topics in the database -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_topic_without_hours_is_always_open() -> None:
    topic = TopicFactory()
    assert hours.is_open(topic, utc(2026, 1, 11, 3, 0))
    assert hours.next_opening(topic, utc(2026, 1, 11, 3, 0)) is None


@pytest.mark.django_db
def test_a_topics_hours_and_time_zone(settings) -> None:
    topic = TopicFactory(timezone="America/New_York")
    BusinessHoursFactory(topic=topic, weekday=MON, opens=time(9), closes=time(17))
    assert hours.is_open(topic, utc(2026, 1, 12, 14, 0))  # 09:00 EST
    assert not hours.is_open(topic, utc(2026, 1, 12, 13, 59))
    assert hours.next_opening(topic, utc(2026, 1, 12, 13, 0)) == utc(2026, 1, 12, 14, 0)


@pytest.mark.django_db
def test_a_new_topic_reads_its_hours_in_the_sites_time_zone(settings) -> None:
    assert Topic.objects.create(name="A", slug="a").timezone == settings.TIME_ZONE


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "utc+1", "x" * 64])
def test_unknown_time_zones_are_refused(name: str) -> None:
    topic = TopicFactory.build(slug="tz", timezone=name)
    with pytest.raises(ValidationError) as error:
        topic.full_clean()
    assert "timezone" in error.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("opens", "closes"), [(time(17), time(9)), (time(9), time(9))], ids=["reversed", "empty"]
)
def test_the_database_refuses_an_interval_that_closes_before_it_opens(opens, closes) -> None:
    topic = TopicFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHours.objects.create(topic=topic, weekday=MON, opens=opens, closes=closes)


@pytest.mark.django_db
def test_model_validation_explains_a_reversed_interval() -> None:
    hours_row = BusinessHoursFactory.build(topic=TopicFactory(), opens=time(17), closes=time(9))
    with pytest.raises(ValidationError, match="opening time must be before the closing time"):
        hours_row.full_clean()


@pytest.mark.django_db
def test_the_database_refuses_a_weekday_out_of_range() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHoursFactory(weekday=7)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 12])
def test_every_topics_availability_in_one_query(count: int, django_assert_num_queries) -> None:
    for index in range(count):
        topic = TopicFactory(timezone="Europe/London", position=index)
        BusinessHoursFactory(topic=topic, weekday=MON, opens=time(9), closes=time(12))
        BusinessHoursFactory(topic=topic, weekday=MON, opens=time(13), closes=time(17))
    with django_assert_num_queries(1):
        listed = topic_list_active_with_availability(at=utc(2026, 6, 1, 11, 30))  # 12:30 BST
    assert [(a.open_now, a.opens_at) for a in listed] == [(False, utc(2026, 6, 1, 12, 0))] * count


@pytest.mark.django_db
def test_admin_shows_the_hours_inline_on_the_topic(admin_client) -> None:
    topic = TopicFactory()
    BusinessHoursFactory(topic=topic)
    page = admin_client.get(f"/admin/helpdesk/topic/{topic.pk}/change/")
    assert page.status_code == 200
    assert b'name="business_hours-0-opens"' in page.content
    assert b'name="timezone"' in page.content
    assert b'name="offer_message_after_seconds"' in page.content


@pytest.mark.django_db
def test_admin_refuses_a_reversed_interval_with_a_message(admin_client) -> None:
    topic = TopicFactory(slug="hours-admin")
    data = {
        "name": topic.name,
        "slug": topic.slug,
        "is_active": "on",
        "position": 0,
        "amber_after_seconds": 60,
        "red_after_seconds": 180,
        "timezone": "Europe/London",
        "business_hours-TOTAL_FORMS": 1,
        "business_hours-INITIAL_FORMS": 0,
        "business_hours-0-weekday": MON,
        "business_hours-0-opens": "17:00",
        "business_hours-0-closes": "09:00",
    }
    response = admin_client.post(f"/admin/helpdesk/topic/{topic.pk}/change/", data)
    assert response.status_code == 200
    assert b"opening time must be before the closing time" in response.content
    assert not BusinessHours.objects.exists()
