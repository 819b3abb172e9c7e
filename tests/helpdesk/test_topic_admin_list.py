"""The supervisors' topic list: thresholds and a one-line summary of the business hours per
topic, in a constant number of queries whatever the number of topics."""

from datetime import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from helpdesk.hours import Interval, Schedule, week_summary
from tests.changelist import changelist_rows
from tests.factories import BusinessHoursFactory, SupervisorFactory, TopicFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/helpdesk/topic/"
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def _week(*intervals: tuple[int, str, str]) -> Schedule:
    return Schedule(
        timezone="UTC",
        intervals=tuple(
            Interval(weekday=day, opens=time.fromisoformat(o), closes=time.fromisoformat(c))
            for day, o, c in intervals
        ),
    )


WORKDAYS = [(day, "09:00", "17:00") for day in (MON, TUE, WED, THU, FRI)]


@pytest.mark.parametrize(
    ("schedule", "summary"),
    [
        (_week(), "always open"),
        (_week(*WORKDAYS), "Mon-Fri 09:00-17:00"),
        (_week(*WORKDAYS, (SAT, "10:00", "14:00")), "Mon-Fri 09:00-17:00; Sat 10:00-14:00"),
        # Given in any order; a lunch break is two intervals of the same days.
        (
            _week(
                *[(d, "13:00", "17:00") for d in (TUE, MON)],
                *[(d, "09:00", "12:00") for d in (MON, TUE)],
            ),
            "Mon-Tue 09:00-12:00, 13:00-17:00",
        ),
        # Days apart, or with other hours, are entries of their own.
        (
            _week((MON, "09:00", "12:00"), (WED, "09:00", "12:00")),
            "Mon 09:00-12:00; Wed 09:00-12:00",
        ),
        (
            _week((MON, "09:00", "17:00"), (TUE, "09:00", "16:00"), (WED, "09:00", "16:00")),
            "Mon 09:00-17:00; Tue-Wed 09:00-16:00",
        ),
        # Closing at 00:00 is midnight, the end of the day.
        (_week((SUN, "18:00", "00:00")), "Sun 18:00-24:00"),
    ],
    ids=["none", "workdays", "saturday", "lunch-break", "apart", "other-hours", "midnight"],
)
def test_the_week_in_one_line(schedule: Schedule, summary: str) -> None:
    assert week_summary(schedule) == summary


@pytest.fixture
def supervisor_client(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


def _with_workdays(topic: object) -> None:
    for day in (MON, TUE, WED, THU, FRI):
        BusinessHoursFactory(topic=topic, weekday=day, opens=time(9), closes=time(17))


def test_each_row_shows_the_thresholds_and_the_business_hours(supervisor_client: Client) -> None:
    billing = TopicFactory(
        name="Billing",
        position=1,
        amber_after_seconds=30,
        red_after_seconds=90,
        reply_timeout_seconds=120,
        timezone="Europe/Lisbon",
    )
    _with_workdays(billing)
    BusinessHoursFactory(topic=billing, weekday=SAT, opens=time(10), closes=time(14))
    TopicFactory(name="Returns", position=2)

    rows = changelist_rows(supervisor_client.get(LIST).content.decode())

    assert [row["name"] for row in rows] == ["Billing", "Returns"]
    billing_row, returns_row = rows
    assert billing_row["amber_after_seconds"] == "30"
    assert billing_row["red_after_seconds"] == "90"
    assert billing_row["reply_timeout_seconds"] == "120"
    assert billing_row["timezone"] == "Europe/Lisbon"
    assert billing_row["business_hours_summary"] == "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
    assert (returns_row["amber_after_seconds"], returns_row["red_after_seconds"]) == ("60", "180")
    assert returns_row["business_hours_summary"] == "always open"


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_one_topic_or_twenty(
    supervisor_client: Client,
) -> None:
    _with_workdays(TopicFactory())
    one = _list_queries(supervisor_client)
    for _ in range(19):
        _with_workdays(TopicFactory())

    twenty = _list_queries(supervisor_client)

    assert len(changelist_rows(supervisor_client.get(LIST).content.decode())) == 20
    assert twenty == one
