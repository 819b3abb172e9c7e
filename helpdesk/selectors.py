"""Reads of the helpdesk core."""

from django.db.models import QuerySet

from helpdesk.models import Topic


def topic_list_active() -> QuerySet[Topic]:
    return Topic.objects.filter(is_active=True).order_by("position", "name")


def topic_get_active(*, slug: str) -> Topic | None:
    return topic_list_active().filter(slug=slug).first()
