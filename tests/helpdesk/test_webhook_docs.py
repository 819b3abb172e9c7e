"""docs/webhooks.md's verification snippet is run as it is printed, against real signatures:
the doc cannot drift from what the helpdesk sends."""

import time

from helpdesk.webhook_signing import signed_headers
from tests.webhook_receiver import doc_snippet, doc_verifier

SECRET = "whsec_" + "c" * 64
BODY = '{"id":"x","event":"ping","data":{"note":"Olá"}}'.encode()


def _headers(timestamp: int) -> dict[str, str]:
    return signed_headers(
        secret=SECRET, event="ping", delivery_id="x", body=BODY, timestamp=timestamp
    )


def test_the_snippet_stands_alone() -> None:
    # A receiver copies it into their own code: it cannot lean on the helpdesk's modules.
    imports = [line for line in doc_snippet().splitlines() if "import" in line]
    assert imports and not any("helpdesk" in line for line in imports)
    assert len(doc_snippet().strip().splitlines()) <= 20


def test_the_snippet_accepts_what_the_helpdesk_signs() -> None:
    verify_webhook = doc_verifier()
    headers = _headers(int(time.time()))
    assert verify_webhook(
        SECRET, BODY, headers["X-Helpdesk-Timestamp"], headers["X-Helpdesk-Signature"]
    )


def test_the_snippet_refuses_tampering_wrong_secret_and_old_timestamps() -> None:
    verify_webhook = doc_verifier()
    headers = _headers(int(time.time()))
    stamp, sig = headers["X-Helpdesk-Timestamp"], headers["X-Helpdesk-Signature"]
    assert not verify_webhook(SECRET, BODY + b"x", stamp, sig)
    assert not verify_webhook("whsec_other", BODY, stamp, sig)
    old = _headers(int(time.time()) - 3600)
    assert not verify_webhook(
        SECRET, BODY, old["X-Helpdesk-Timestamp"], old["X-Helpdesk-Signature"]
    )
    assert not verify_webhook(SECRET, BODY, "not-a-time", sig)
    assert not verify_webhook(SECRET, BODY, "²", sig)
    assert not verify_webhook(SECRET, BODY, stamp, "v1=é")
