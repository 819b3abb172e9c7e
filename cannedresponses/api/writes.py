"""The canned-response writes of both APIs, the console's (/api/v1/console/canned-responses/)
and the integrators' (/api/v1/canned-responses/): they take the same input serializers, so the
step from their validated data to `cannedresponses.services` is written once."""

from typing import Any

from cannedresponses import selectors, services
from cannedresponses.errors import CannedResponseInvalid
from cannedresponses.models import CannedResponse
from helpdesk.models import Topic


def topic_or_error(topic_id: int | None) -> Topic | None:
    """The topic a write names (any, active or not), None for none; a missing one is 400
    `invalid` with `errors.topic`, like the serializers' own errors."""
    if topic_id is None:
        return None
    topic = selectors.topic_get(topic_id=topic_id)
    if topic is None:
        raise CannedResponseInvalid({"topic": ["No such topic."]})
    return topic


def create_from_input(*, actor: Any, values: dict[str, Any]) -> CannedResponse:
    """`values`: CannedResponseCreateInput's validated data."""
    return services.canned_response_create(
        actor=actor,
        title=values["title"],
        shortcut=values["shortcut"],
        body=values["body"],
        scope=values["scope"],
        topic=topic_or_error(values.get("topic")),
        is_active=values["is_active"],
    )


def update_from_input(*, actor: Any, response_id: int, values: dict[str, Any]) -> CannedResponse:
    """`values`: CannedResponseUpdateInput's validated data; a field left out is unchanged."""
    return services.canned_response_update(
        actor=actor,
        response_id=response_id,
        title=values.get("title"),
        shortcut=values.get("shortcut"),
        body=values.get("body"),
        scope=values.get("scope"),
        topic=topic_or_error(values.get("topic")),
        is_active=values.get("is_active"),
    )
