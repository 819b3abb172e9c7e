"""One webhook POST against a real HTTP server on 127.0.0.1: the signed request as sent, 2xx
only as success, redirects not followed, a slow receiver given up on, answers read capped."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from helpdesk import webhook_http
from helpdesk.webhook_signing import signed_headers
from tests.webhook_receiver import WebhookReceiver, doc_verifier, receivers_running

SECRET = "whsec_" + "d" * 64
BODY = json.dumps({"id": "x", "event": "ping", "data": {"ping": True}}).encode()


@pytest.fixture
def webhook_receiver(settings: Any) -> Iterator[Callable[..., WebhookReceiver]]:
    with receivers_running(settings) as start:
        yield start


def _post(url: str, timeout: float = 5) -> webhook_http.HttpResult:
    headers = signed_headers(secret=SECRET, event="ping", delivery_id="x", body=BODY)
    return webhook_http.post(url=url, body=BODY, headers=headers, timeout=timeout)


def test_a_2xx_answer_is_a_delivery_of_the_exact_signed_body(webhook_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver = webhook_receiver([204])
    result = _post(receiver.url + "?source=helpdesk")
    assert result.ok and result.status == 204
    [request] = receiver.requests
    assert request.path == "/hooks/helpdesk?source=helpdesk"
    assert request.body == BODY
    assert request.headers["X-Helpdesk-Event"] == "ping"
    assert doc_verifier()(
        SECRET,
        request.body,
        request.headers["X-Helpdesk-Timestamp"],
        request.headers["X-Helpdesk-Signature"],
    )


@pytest.mark.parametrize("status", [400, 404, 410, 429, 500, 503])
def test_other_answers_are_failures_with_their_code(webhook_receiver, status: int) -> None:  # type: ignore[no-untyped-def]
    receiver = webhook_receiver([status], answer_body=b"<h1>Oops</h1>")
    result = _post(receiver.url)
    assert not result.ok and not result.permanent
    assert result.status == status
    assert result.error.startswith(f"HTTP {status}")


def test_a_redirect_is_not_followed(webhook_receiver) -> None:  # type: ignore[no-untyped-def]
    target = webhook_receiver()
    receiver = webhook_receiver([302], answer_headers={"Location": target.url})
    result = _post(receiver.url)
    assert not result.ok and result.status == 302
    assert "not followed" in result.error
    assert len(receiver.requests) == 1
    assert target.requests == []


def test_a_huge_answer_is_read_only_a_little(webhook_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver = webhook_receiver([500], answer_body=b"x" * 5_000_000)
    result = _post(receiver.url)
    assert result.status == 500
    assert len(result.error) < 300


def test_a_receiver_that_does_not_answer_in_time_is_a_failure(webhook_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver = webhook_receiver()
    receiver.hold.set()  # answers only when released (at the end of the test)
    result = _post(receiver.url, timeout=0.5)
    assert not result.ok and result.status is None
    assert "timed out" in result.error.lower()


def test_nobody_listening_is_a_temporary_failure(webhook_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver = webhook_receiver()
    url = receiver.url
    receiver.stop()
    result = _post(url)
    assert not result.ok and not result.permanent and result.status is None


def test_a_private_receiver_is_refused_without_the_setting(webhook_receiver, settings) -> None:  # type: ignore[no-untyped-def]
    receiver = webhook_receiver()
    settings.HELPDESK_WEBHOOK_ALLOW_PRIVATE = False
    result = _post(receiver.url)
    assert result.permanent and "refused" in result.error
    assert receiver.requests == []
