"""The shared socket client (static/chat/socket.js) against the protocol's rules, in chromium.

No server: the page and the modules are served by Playwright from the source tree, the
WebSocket is a fake the test drives frame by frame, and the clock is Playwright's fake clock,
so backoff and heartbeat run in virtual time.
"""

import mimetypes
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route

from tests.browser.support import ROOT, Pages, close_context, deadline

pytestmark = pytest.mark.browser

ORIGIN = "http://helpdesk.test"

FAKE_SOCKET = """
window.sockets = [];
class FakeSocket extends EventTarget {
  static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    sockets.push(this);
  }
  send(data) { this.sent.push(JSON.parse(data)); }
  close(code) { this.readyState = 3; this.closedWith = code; }
  serverOpen() { this.readyState = 1; this.dispatchEvent(new Event("open")); }
  serverSend(frame) {
    this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(frame) }));
  }
  serverClose(code) {
    this.readyState = 3;
    const event = new Event("close");
    event.code = code;
    this.dispatchEvent(event);
  }
}
window.WebSocket = FakeSocket;
true;
"""


async def _serve(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN)
    if path.startswith("/static/"):
        file = ROOT / path.lstrip("/")
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".js":
            content_type = "text/javascript"
        await route.fulfill(body=file.read_bytes(), content_type=content_type)
    else:
        await route.fulfill(
            body="<!doctype html><title>t</title><body></body>", content_type="text/html"
        )


@pytest.fixture
async def page(browser: Browser, pages: Pages) -> AsyncIterator[Page]:
    context = await browser.new_context()
    await context.route(f"{ORIGIN}/**", _serve)
    page = await pages.new(context)
    await page.clock.install()
    await page.goto(f"{ORIGIN}/")
    await page.evaluate(FAKE_SOCKET)
    await page.evaluate(
        """async () => {
          window.m = await import('/static/chat/socket.js');
          window.ui = await import('/static/chat/ui.js');
        }"""
    )
    yield page
    await close_context(context)


async def js(page: Page, code: str, arg: Any = None) -> Any:
    return await page.evaluate(code, arg)


async def sent(page: Page, index: int = -1) -> list[dict[str, Any]]:
    return await js(page, "i => sockets.at(i).sent", index)


async def server_send(page: Page, *frames: dict[str, Any], socket: int = -1) -> None:
    await js(
        page,
        "([i, frames]) => frames.forEach(f => sockets.at(i).serverSend(f))",
        [socket, list(frames)],
    )


def message(seq: int, body: str, kind: str = "customer", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "chat": 7,
        "seq": seq,
        "kind": kind,
        "body": body,
        "author": None,
        "created_at": "2026-01-01T10:00:00+00:00",
        "client_msg_id": None,
        **extra,
    }


async def items(page: Page) -> list[list[Any]]:
    return await js(page, "() => client.log(7).items().map(m => [m.seq, m.body, m.state])")


@deadline(30)
async def test_resume_gaps_outbox_and_reconnect(page: Page) -> None:
    await js(
        page,
        """() => {
          window.states = [];
          const url = 'ws://helpdesk.test/ws/chat/t/';
          window.client = new m.ChatClient({ url, role: 'customer' });
          client.addEventListener('state', e => states.push(e.detail.state));
          client.track(7);
          client.start();
          sockets[0].serverOpen();
        }""",
    )
    # On connect: resume every tracked chat from the highest contiguous seq.
    assert await sent(page) == [{"type": "resume", "after_seq": 0}]
    await server_send(page, message(1, "hi"), message(2, "there"))
    await server_send(page, {"type": "resumed", "chat": 7, "last_seq": 2, "more": False})

    # A gap (4 after 2) is healed with resume after the highest contiguous seq; duplicates
    # and out-of-order frames are shown once, sorted.
    await server_send(page, message(4, "four"))
    await page.clock.run_for(1000)
    assert (await sent(page))[-1] == {"type": "resume", "after_seq": 2}
    await server_send(page, message(3, "three"), message(4, "four"), message(2, "there"))
    await server_send(page, {"type": "resumed", "chat": 7, "last_seq": 4, "more": False})
    assert [row[0] for row in await items(page)] == [1, 2, 3, 4]

    # `more` asks for the next batch.
    await server_send(page, {"type": "chat", "id": 7, "status": "active", "last_seq": 6})
    await page.clock.run_for(1000)
    assert (await sent(page))[-1] == {"type": "resume", "after_seq": 4}
    await server_send(page, message(5, "five"))
    await server_send(page, {"type": "resumed", "chat": 7, "last_seq": 5, "more": True})
    assert (await sent(page))[-1] == {"type": "resume", "after_seq": 5}
    await server_send(page, message(6, "six"))
    await server_send(page, {"type": "resumed", "chat": 7, "last_seq": 6, "more": False})

    # A message shows at once as "sending"; the customer's frames carry no chat id.
    msg_id = await js(page, "() => client.sendMessage(7, 'Anyone there?')")
    assert (await sent(page))[-1] == {
        "type": "message",
        "body": "Anyone there?",
        "client_msg_id": msg_id,
    }
    assert (await items(page))[-1] == [None, "Anyone there?", "sending"]

    # The connection drops before the ack: reconnect with backoff, resume, resend the same id.
    await js(page, "() => sockets[0].serverClose(1006)")
    assert await js(page, "() => client.state") == "reconnecting"
    await page.clock.run_for(600)
    assert await js(page, "() => sockets.length") == 2
    await js(page, "() => sockets[1].serverOpen()")
    assert await sent(page) == [
        {"type": "resume", "after_seq": 6},
        {"type": "message", "body": "Anyone there?", "client_msg_id": msg_id},
    ]
    assert await js(page, "() => states") == ["connecting", "open", "reconnecting", "open"]

    # The ack places it at its seq; the echo of the same message does not double it.
    await server_send(page, {"type": "ack", "chat": 7, "client_msg_id": msg_id, "seq": 7})
    await server_send(page, message(7, "Anyone there?", client_msg_id=msg_id))
    rows = await items(page)
    assert rows[-1] == [7, "Anyone there?", "sent"]
    assert [row[1] for row in rows].count("Anyone there?") == 1
    assert await js(page, "() => client.unacked(7)") == []

    # A rejected message shows why, and is not resent.
    bad_id = await js(page, "() => client.sendMessage(7, 'x'.repeat(10))")
    await server_send(
        page,
        {
            "type": "error",
            "code": "body_too_long",
            "detail": "A message can be at most 4000 characters long.",
            "chat": 7,
            "client_msg_id": bad_id,
        },
    )
    failed = await js(page, "id => client.log(7).pending.get(id)", bad_id)
    assert failed["state"] == "failed"
    assert failed["error"] == "A message can be at most 4000 characters long."
    assert await js(page, "() => client.unacked(7)") == []


@deadline(30)
async def test_heartbeat_declares_a_silent_connection_dead(page: Page) -> None:
    await js(
        page,
        """() => {
          const url = 'ws://helpdesk.test/ws/console/';
          window.client = new m.ChatClient({ url, role: 'agent' });
          client.track(3);
          client.start();
          sockets[0].serverOpen();
        }""",
    )
    # Agents' frames name the chat.
    assert await sent(page) == [{"type": "resume", "chat": 3, "after_seq": 0}]
    await page.clock.run_for(25_000)
    assert (await sent(page))[-1] == {"type": "ping"}
    await server_send(page, {"type": "pong"})
    await page.clock.run_for(11_000)
    assert await js(page, "() => client.state") == "open"  # answered: alive

    await page.clock.run_for(14_000)  # the next ping, at 50 s, is never answered
    assert (await sent(page))[-1] == {"type": "ping"}
    await page.clock.run_for(10_500)
    assert await js(page, "() => client.state") == "reconnecting"
    await page.clock.run_for(600)
    assert await js(page, "() => sockets.length") == 2


@deadline(30)
async def test_fatal_close_codes_stop_reconnecting(page: Page) -> None:
    await js(
        page,
        """() => {
          const url = 'ws://helpdesk.test/ws/chat/bad/';
          window.client = new m.ChatClient({ url, role: 'customer' });
          client.start();
          sockets[0].serverOpen();
          const detail = 'This chat link is not valid.';
          sockets[0].serverSend({ type: 'error', code: 'invalid_token', detail });
          sockets[0].serverClose(4001);
        }""",
    )
    assert await js(page, "() => [client.state, client.connection.reason]") == [
        "stopped",
        "This chat link is not valid.",
    ]
    await page.clock.run_for(120_000)
    assert await js(page, "() => sockets.length") == 1


@deadline(30)
async def test_backoff_grows_with_jitter_and_is_capped(page: Page) -> None:
    delays = await js(page, "() => Array.from({length: 12}, (_, i) => m.backoffDelay(i))")
    assert 250 <= delays[0] <= 500
    assert 1000 <= delays[2] <= 2000
    assert all(5000 <= d <= 10_000 for d in delays[6:])


@deadline(30)
async def test_message_text_is_never_html_and_only_http_links_are_clickable(page: Page) -> None:
    body = (
        "<img src=x onerror=alert(1)> see https://example.com/a?b=1, "
        "javascript:alert(1) and http://example.org."
    )
    result = await js(
        page,
        """text => {
          const div = document.createElement('div');
          ui.renderText(div, text);
          return {
            text: div.textContent,
            elements: Array.from(div.querySelectorAll('*')).map(
              e => [e.tagName, e.getAttribute('href'), e.rel, e.target]
            ),
          };
        }""",
        body,
    )
    assert result["text"] == body
    assert result["elements"] == [
        ["A", "https://example.com/a?b=1", "noopener noreferrer nofollow", "_blank"],
        ["A", "http://example.org/", "noopener noreferrer nofollow", "_blank"],
    ]


@deadline(30)
async def test_a_messages_extra_fields_ride_in_every_resend(page: Page) -> None:
    await js(
        page,
        """() => {
          const url = 'ws://helpdesk.test/ws/console/';
          window.client = new m.ChatClient({ url, role: 'agent' });
          client.start();
          sockets[0].serverOpen();
        }""",
    )
    # Only the protocol's optional fields go along (origin, tone_overrides).
    msg_id = await js(
        page,
        """() => client.sendMessage(7, 'Sure lol', {
             origin: 'canned', tone_overrides: ['lol'], body: 'other', junk: 1 })""",
    )
    frame = {
        "type": "message",
        "chat": 7,
        "origin": "canned",
        "tone_overrides": ["lol"],
        "body": "Sure lol",
        "client_msg_id": msg_id,
    }
    assert (await sent(page))[-1] == frame
    assert await js(page, "() => client.unacked(7)") == [
        {
            "client_msg_id": msg_id,
            "body": "Sure lol",
            "extra": {"origin": "canned", "tone_overrides": ["lol"]},
        }
    ]

    # The connection drops before the ack: the resend is the same frame.
    await js(page, "() => sockets[0].serverClose(1006)")
    await page.clock.run_for(600)
    await js(page, "() => sockets[1].serverOpen()")
    assert (await sent(page))[-1] == frame

    # Refused, then retried by hand: the same frame again.
    await server_send(
        page,
        {"type": "error", "code": "chat_closed", "detail": "x", "chat": 7, "client_msg_id": msg_id},
    )
    await js(page, "id => client.retry(7, id)", msg_id)
    assert (await sent(page))[-1] == frame

    # A plain message has no extra fields; restored messages keep theirs.
    plain = await js(page, "() => client.sendMessage(7, 'Hello')")
    assert (await sent(page))[-1] == {
        "type": "message",
        "chat": 7,
        "body": "Hello",
        "client_msg_id": plain,
    }
    await js(
        page,
        """() => client.restorePending(8, [
             { client_msg_id: 'held-1', body: 'On hold', extra: { origin: 'hold' } }])""",
    )
    assert (await sent(page))[-1] == {
        "type": "message",
        "chat": 8,
        "origin": "hold",
        "body": "On hold",
        "client_msg_id": "held-1",
    }
