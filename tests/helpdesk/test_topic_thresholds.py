"""Per-topic waiting thresholds: amber, then red; red above amber above zero, everywhere."""

import pytest
from django.db import IntegrityError, transaction

from chat import protocol
from helpdesk.models import Topic
from tests.factories import ChatFactory, TopicFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/helpdesk/topic/add/"


def test_a_topic_turns_amber_after_a_minute_and_red_after_three_by_default() -> None:
    topic = Topic.objects.create(name="Returns", slug="returns-default")
    assert (topic.amber_after_seconds, topic.red_after_seconds) == (60, 180)


@pytest.mark.parametrize(
    ("amber", "red"),
    [(60, 60), (120, 60), (0, 60)],
    ids=["red-equal-amber", "red-below-amber", "amber-zero"],
)
def test_the_database_refuses_thresholds_out_of_order(amber: int, red: int) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Topic.objects.create(
            name="Bad", slug="bad", amber_after_seconds=amber, red_after_seconds=red
        )
    assert not Topic.objects.filter(slug="bad").exists()


def test_the_database_accepts_red_just_above_amber() -> None:
    topic = TopicFactory(amber_after_seconds=1, red_after_seconds=2)
    assert Topic.objects.get(pk=topic.pk).red_after_seconds == 2


def form_data(**overrides: object) -> dict[str, object]:
    return {
        "name": "Billing",
        "slug": "billing-admin",
        "is_active": "on",
        "position": 0,
        "amber_after_seconds": 30,
        "red_after_seconds": 90,
        # The business hours inline (none: always open).
        "business_hours-TOTAL_FORMS": 0,
        "business_hours-INITIAL_FORMS": 0,
        **overrides,
    }


def test_supervisors_set_the_thresholds_in_the_topic_admin(admin_client) -> None:
    page = admin_client.get(ADD_URL)
    assert b'name="amber_after_seconds"' in page.content
    assert b'name="red_after_seconds"' in page.content

    response = admin_client.post(ADD_URL, form_data())

    assert response.status_code == 302, response.content
    topic = Topic.objects.get(slug="billing-admin")
    assert (topic.amber_after_seconds, topic.red_after_seconds) == (30, 90)


@pytest.mark.parametrize(
    ("amber", "red"), [(90, 90), (90, 30), (0, 30)], ids=["equal", "below", "amber-zero"]
)
def test_the_admin_form_refuses_red_not_above_amber(admin_client, amber: int, red: int) -> None:
    response = admin_client.post(
        ADD_URL, form_data(amber_after_seconds=amber, red_after_seconds=red)
    )

    assert response.status_code == 200  # the form again, with the error
    assert b"The red threshold must be above the amber threshold" in response.content
    assert not Topic.objects.filter(slug="billing-admin").exists()


def test_the_staff_chat_frame_carries_the_topics_thresholds() -> None:
    chat = ChatFactory(topic=TopicFactory(amber_after_seconds=45, red_after_seconds=120))
    frame = protocol.chat_frame_for_staff(chat, preview=None)
    assert frame["topic"] == {
        "slug": chat.topic.slug,
        "name": chat.topic.name,
        "amber_after": 45,
        "red_after": 120,
    }


def test_the_customer_chat_frame_does_not() -> None:
    chat = ChatFactory(topic=TopicFactory(amber_after_seconds=45, red_after_seconds=120))
    frame = protocol.chat_frame_for_customer(chat)
    assert frame["topic"] == {"slug": chat.topic.slug, "name": chat.topic.name}
