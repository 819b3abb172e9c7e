"""The cap: a visitor shown an invitation (by any rule) is not invited by a rule again within
that rule's period. The widget keeps the time in its own storage and sends how long ago it
was; the server applies each rule's period to that (a client can lie, and then only invites
itself)."""

from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from routing.invitations import is_capped
from tests.factories import InvitationRuleFactory, TopicFactory
from tests.routing.invitation_support import check, fresh_throttles, staffed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    yield from fresh_throttles()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


HOUR = 3600


@pytest.mark.parametrize(
    "cap_hours, seconds_since, capped",
    [
        (24, None, False),  # never invited
        (24, 0, True),
        (24, 24 * HOUR - 1, True),
        (24, 24 * HOUR, False),  # the period has passed
        (1, HOUR - 1, True),
        (1, HOUR, False),
        (720, 29 * 24 * HOUR, True),
    ],
)
def test_the_cap_of_one_rule(cap_hours: int, seconds_since: int | None, capped: bool) -> None:
    assert is_capped(cap_hours=cap_hours, seconds_since_last_invitation=seconds_since) is capped


def test_a_visitor_invited_within_the_period_is_not_invited_again(api: APIClient) -> None:
    topic = TopicFactory()
    staffed(topic)
    rule = InvitationRuleFactory(topic=topic, cap_hours=24)
    assert check(api).json()["invitation"]["rule"] == rule.pk
    capped = check(api, seconds_since_last_invitation=3 * HOUR).json()
    assert capped == {"invitation": None, "check_again_in": None}
    later = check(api, seconds_since_last_invitation=24 * HOUR).json()
    assert later["invitation"]["rule"] == rule.pk


def test_each_rule_applies_its_own_period(api: APIClient) -> None:
    topic = TopicFactory()
    staffed(topic)
    InvitationRuleFactory(topic=topic, cap_hours=48, priority=5)
    short = InvitationRuleFactory(topic=topic, cap_hours=2, priority=1)
    # Invited 3 hours ago: the 48-hour rule keeps quiet, the 2-hour one may invite.
    answer = check(api, seconds_since_last_invitation=3 * HOUR).json()
    assert answer["invitation"]["rule"] == short.pk
