"""The `queue` frame's `message_offered`: a waiting customer is offered to leave a message when
the topic is closed now, when no agent is available, or when the estimated wait passes the
topic's `offer_message_after_seconds` (0: never for the wait). Staying is the default."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from routing import selectors
from routing.selectors import message_offered
from tests.factories import BusinessHoursFactory, ChatFactory, TopicFactory
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_handling(settings) -> None:
    settings.HELPDESK_DEFAULT_HANDLING_SECONDS = 300


@pytest.mark.parametrize(
    ("wait", "offer_after", "open_now", "offered"),
    [
        (300, 0, True, False),  # threshold off
        (None, 0, True, True),  # nobody can answer
        (300, 299, True, True),
        (300, 300, True, False),  # "passes": strictly above
        (300, 600, True, False),
        (0, 0, False, True),  # closed now
        (None, 600, False, True),
    ],
)
def test_the_rule(wait, offer_after, open_now, offered) -> None:
    assert (
        message_offered(
            estimated_wait_seconds=wait, offer_after_seconds=offer_after, open_now=open_now
        )
        is offered
    )


def queue(topic, count: int) -> list:
    now = timezone.now()
    return [
        ChatFactory(topic=topic, queued_at=now - timedelta(minutes=count - i)) for i in range(count)
    ]


def offers() -> dict[int, tuple[int, int | None, bool]]:
    return {
        s.chat_id: (s.position, s.estimated_wait_seconds, s.message_offered)
        for s in selectors.queue_standings()
    }


def always_open(topic) -> None:
    for weekday in range(7):
        BusinessHoursFactory(topic=topic, weekday=weekday, opens=time(0), closes=time(0))


def closed_today(topic) -> None:
    # Open only on another weekday than today's (in UTC, the topic's zone here).
    other = (timezone.now().weekday() + 3) % 7
    BusinessHoursFactory(topic=topic, weekday=other, opens=time(9), closes=time(17))


def test_past_the_threshold_only_the_later_customers_are_offered() -> None:
    topic = TopicFactory(offer_message_after_seconds=450)
    make_agent(topics=[topic])
    first, second = queue(topic, 2)
    assert offers() == {first.pk: (1, 300, False), second.pk: (2, 600, True)}


def test_without_a_threshold_a_long_wait_is_not_offered() -> None:
    topic = TopicFactory(offer_message_after_seconds=0)
    make_agent(topics=[topic])
    chats = queue(topic, 3)
    assert [offers()[c.pk][2] for c in chats] == [False, False, False]


def test_no_agent_available_is_offered_whatever_the_threshold() -> None:
    topic = TopicFactory(offer_message_after_seconds=0)
    [chat] = queue(topic, 1)
    assert offers() == {chat.pk: (1, None, True)}


def test_a_topic_closed_now_is_offered_even_with_an_agent_online() -> None:
    closed, open_ = TopicFactory(timezone="UTC"), TopicFactory(timezone="UTC")
    closed_today(closed)
    always_open(open_)
    make_agent(topics=[closed, open_])
    [waiting_closed] = queue(closed, 1)
    [waiting_open] = queue(open_, 1)
    result = offers()
    assert result[waiting_closed.pk][2] is True
    assert result[waiting_open.pk][2] is False


def test_the_topics_own_time_zone_decides() -> None:
    # Open all of today in UTC terms is not open in a zone where it is already tomorrow.
    today = timezone.now().weekday()
    far_east = TopicFactory(timezone="Pacific/Kiritimati")  # UTC+14
    BusinessHoursFactory(topic=far_east, weekday=today, opens=time(0), closes=time(0))
    make_agent(topics=[far_east])
    [chat] = queue(far_east, 1)
    local_weekday = timezone.now().astimezone(ZoneInfo("Pacific/Kiritimati")).weekday()
    assert offers()[chat.pk][2] is (local_weekday != today)


def test_still_three_queries_with_hours_and_thresholds(django_assert_num_queries) -> None:
    for index in range(4):
        topic = TopicFactory(offer_message_after_seconds=100 * index, timezone="Europe/London")
        if index % 2:
            always_open(topic)
        else:
            closed_today(topic)
        make_agent(topics=[topic])
        queue(topic, 5)
    with django_assert_num_queries(3):
        standings = selectors.queue_standings()
    assert len(standings) == 20


def test_a_chat_out_of_the_queue_has_no_offer() -> None:
    topic = TopicFactory()
    [chat] = queue(topic, 1)
    chat.status = "closed"
    chat.closed_at = timezone.now()
    chat.save()
    assert selectors.queue_frame_for_chat(chat_id=chat.pk)["message_offered"] is None
