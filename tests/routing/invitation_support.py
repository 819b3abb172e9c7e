"""Helpers of the invitation tests: a staffed topic, a visit's check body, fresh throttles."""

from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from tests.routing.conftest import make_agent

CHECK_URL = "/api/v1/public/invitations/check/"
SCOPES = ("public_invitation_check", "public_invitation_event")
ADDRESSES = ("127.0.0.1", "10.9.8.7")


def throttle_keys() -> list[str]:
    return [
        ScopedRateThrottle.cache_format % {"scope": scope, "ident": ip}
        for scope in SCOPES
        for ip in ADDRESSES
    ]


def fresh_throttles() -> Iterator[None]:
    """For an autouse fixture: `yield from fresh_throttles()`. Only our keys are deleted: the
    cache may be a Redis shared with other processes, never flushed."""
    cache.delete_many(throttle_keys())
    yield
    cache.delete_many(throttle_keys())


def staffed(topic: Any) -> Any:
    """An agent online with a console open and room, whose one skill is the topic."""
    return make_agent(topics=[topic])


def visit_body(**overrides: Any) -> dict[str, Any]:
    return {
        "path": "/shop/boots",
        "seconds_on_page": 10,
        "pages_in_visit": 1,
        "returning": False,
        "seconds_since_last_invitation": None,
        **overrides,
    }


def check(api: APIClient, **overrides: Any) -> Any:
    return api.post(CHECK_URL, visit_body(**overrides), format="json")


def event_url(rule_id: int | str, event: str) -> str:
    return f"/api/v1/public/invitations/{rule_id}/{event}/"
