"""Webhook signatures (docs/webhooks.md): what the helpdesk puts in the headers of a delivery
and how a receiver checks them.

The signature is `v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>`: the timestamp is signed
with the body, so a captured request cannot be replayed later with a fresh timestamp, and a
receiver refuses one older than its tolerance.
"""

import hashlib
import hmac
import time

EVENT_HEADER = "X-Helpdesk-Event"
DELIVERY_HEADER = "X-Helpdesk-Delivery"
TIMESTAMP_HEADER = "X-Helpdesk-Timestamp"
SIGNATURE_HEADER = "X-Helpdesk-Signature"
SIGNATURE_VERSION = "v1"
# How old a timestamp a receiver accepts by default (seconds, either way: clocks drift).
DEFAULT_TOLERANCE_SECONDS = 300


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header for these exact body bytes."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def signed_headers(
    *, secret: str, event: str, delivery_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """Every header of one attempt; the timestamp is the attempt's, so retries are signed
    afresh (the body bytes stay the same)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": "Helpdesk-Webhooks/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret=secret, timestamp=timestamp, body=body),
    }


def verify(
    *,
    secret: str,
    body: bytes,
    timestamp: str,
    signature_header: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `signature_header` signs `timestamp` and `body` with `secret` and the
    timestamp is within `tolerance` seconds of now. Several comma-separated signatures are
    accepted (one may match), so a later secret rotation can sign with both keys."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - stamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=stamp, body=body)
    return any(
        hmac.compare_digest(expected.encode(), candidate.strip().encode())
        for candidate in signature_header.split(",")
    )
