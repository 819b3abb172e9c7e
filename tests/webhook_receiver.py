"""Webhook test helpers: a real HTTP receiver on 127.0.0.1 (http.server in a thread) that answers
with scripted status codes, the verification snippet of docs/webhooks.md as a callable, and a
recorder of what would be queued to Celery instead of sending it. Plain helpers: test modules
declare their own fixtures around them."""

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"
# The snippet follows this marker in the doc, in a ```python fence.
SNIPPET_MARKER = "<!-- verify-snippet: executed by tests/helpdesk/test_webhook_docs.py -->"


def doc_snippet() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(re.escape(SNIPPET_MARKER) + r"\s*```python\n(.*?)```", text, re.DOTALL)
    assert found, f"docs/webhooks.md lost its verification snippet ({SNIPPET_MARKER})"
    return found.group(1)


def doc_verifier() -> Callable[..., bool]:
    """`verify_webhook(secret, body, timestamp, signature)` exactly as docs/webhooks.md
    shows it, run on its own (no helpdesk import)."""
    namespace: dict[str, Any] = {}
    exec(compile(doc_snippet(), str(DOC), "exec"), namespace)  # noqa: S102  (our own doc)
    return namespace["verify_webhook"]  # type: ignore[no-any-return]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test, a capped read) is expected, not news.
        pass


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class WebhookReceiver:
    """Answers each POST with the next scripted status (then 200), keeping every request."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    # Extra headers per answered status (e.g. a Location for a redirect).
    answer_headers: dict[str, str] = field(default_factory=dict)
    answer_body: bytes = b"ok"
    # While set, each request waits for `release` before being answered (a slow receiver).
    hold: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/helpdesk"

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if receiver.hold.is_set():
                    receiver.release.wait(30)
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, status)
                    )
                self.send_response(status)
                for name, value in receiver.answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.answer_body)))
                self.end_headers()
                self.wfile.write(receiver.answer_body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@contextlib.contextmanager
def receivers_running(settings: Any) -> Iterator[Callable[..., WebhookReceiver]]:
    """Start receivers on loopback (private addresses allowed for the test: SSRF guard); each
    test module wraps it in its own fixture."""
    settings.HELPDESK_WEBHOOK_ALLOW_PRIVATE = True
    started: list[WebhookReceiver] = []

    def start(statuses: list[int] | None = None, **kwargs: Any) -> WebhookReceiver:
        receiver = WebhookReceiver(statuses=list(statuses or []), **kwargs).start()
        started.append(receiver)
        return receiver

    try:
        yield start
    finally:
        for receiver in started:
            receiver.stop()


def record_queue(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The delivery ids queued to the send task (after commit), recorded instead of sent."""
    queued: list[int] = []
    monkeypatch.setattr("helpdesk.webhooks._queue", queued.append)
    return queued
