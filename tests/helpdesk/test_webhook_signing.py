"""Webhook signatures: what the helpdesk signs, and what verification accepts and refuses."""

import hashlib
import hmac

from helpdesk.webhook_signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    signed_headers,
    verify,
)

SECRET = "whsec_" + "a" * 64
BODY = b'{"id":"d1","event":"chat.closed","data":{"chat":{"id":1}}}'
NOW = 1_800_000_000


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(secret=SECRET, timestamp=NOW, body=BODY) == f"v1={expected}"


def test_the_headers_name_event_delivery_timestamp_and_signature() -> None:
    headers = signed_headers(
        secret=SECRET, event="chat.closed", delivery_id="d1", body=BODY, timestamp=NOW
    )
    assert headers[EVENT_HEADER] == "chat.closed"
    assert headers[DELIVERY_HEADER] == "d1"
    assert headers[TIMESTAMP_HEADER] == str(NOW)
    assert headers[SIGNATURE_HEADER] == signature(secret=SECRET, timestamp=NOW, body=BODY)
    assert headers["Content-Type"] == "application/json"


def _check(**changes: object) -> bool:
    args: dict[str, object] = {
        "secret": SECRET,
        "body": BODY,
        "timestamp": str(NOW),
        "signature_header": signature(secret=SECRET, timestamp=NOW, body=BODY),
        "now": NOW + 10,
    }
    args.update(changes)
    return verify(**args)  # type: ignore[arg-type]


def test_a_genuine_delivery_verifies() -> None:
    assert _check()


def test_a_tampered_body_is_refused() -> None:
    assert not _check(body=BODY.replace(b'"id":1', b'"id":2'))
    assert not _check(body=BODY + b" ")


def test_a_wrong_secret_is_refused() -> None:
    assert not _check(secret="whsec_" + "b" * 64)


def test_an_old_or_future_timestamp_is_refused() -> None:
    assert not _check(now=NOW + 301)
    assert not _check(now=NOW - 301)
    assert _check(now=NOW + 300)


def test_a_replayed_signature_with_a_fresh_timestamp_is_refused() -> None:
    # The timestamp is signed: changing it to pass the age check breaks the signature.
    assert not _check(timestamp=str(NOW + 1000), now=NOW + 1000)


def test_malformed_headers_are_refused_without_errors() -> None:
    assert not _check(timestamp="")
    assert not _check(timestamp="yesterday")
    assert not _check(signature_header="")
    assert not _check(signature_header="v1=")
    assert not _check(signature_header="v1=zz")
    assert not _check(signature_header="v1=é" + "0" * 63)  # non-ASCII: no TypeError


def test_one_of_several_signatures_may_match() -> None:
    good = signature(secret=SECRET, timestamp=NOW, body=BODY)
    assert _check(signature_header=f"v1={'0' * 64}, {good}")
