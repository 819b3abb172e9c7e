from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

SCOPES = ("public_chat_start", "public_read", "public_ticket_create")


def throttle_keys(ident: str = "127.0.0.1") -> list[str]:
    return [ScopedRateThrottle.cache_format % {"scope": s, "ident": ident} for s in SCOPES]


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    """Each test starts with a full allowance. Only the throttle keys are deleted: the cache
    may be a Redis database shared with other processes, so it is never flushed."""
    cache.delete_many(throttle_keys())
    yield
    cache.delete_many(throttle_keys())


@pytest.fixture
def api() -> APIClient:
    return APIClient()
