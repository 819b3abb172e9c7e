"""Helpers for tests of the integrators' API (/api/v1/): clients holding a token, the one error
format, and a private throttle cache."""

import json
from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import api_token_for


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.default_format = "json"  # the API parses JSON only
    return client


def client_for(user: Any = None, *, scope: str = "read", **kwargs: Any) -> APIClient:
    """A client sending a new token of `user` (a new supervisor if None)."""
    _token, raw = api_token_for(user, scope=scope, **kwargs)
    return bearer(raw)


def post_json(client: APIClient, url: str, data: Any) -> Any:
    """POST `data` as JSON exactly as a client may send it: json.dumps escapes a lone surrogate
    ("\\ud800"), which DRF's test client (rendering UTF-8) cannot send at all."""
    return client.generic("POST", url, json.dumps(data), content_type="application/json")


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The API's one error body, `{"code", "detail", "errors"?}`, with this status and code."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    # `errors` maps each field to a list of messages, never to a nested object.
    for messages in body.get("errors", {}).values():
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages), body
    return body


def result_ids(response: Any) -> list[int]:
    """The ids of a list page's `results`, in the page's order; the page must be a 200."""
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def query_count(client: APIClient, url: str) -> int:
    """How many queries one GET of `url` costs (it must answer 200): lists compare it for 1
    and for 20 rows."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def fresh_cache(settings: Any) -> Iterator[None]:
    """Throttling counts in the cache: each test gets its own local-memory cache, emptied before
    and after (never the shared Redis cache a test run may be configured with)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "integrator-api-tests",
        }
    }
    cache.clear()
    yield
    cache.clear()
