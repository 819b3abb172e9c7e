"""The daphne launch flags and access-log redaction that production relies on."""

import pprint

import pytest

from chat.protocol import MAX_FRAME_BYTES
from helpdesk.server import (
    WEBSOCKET_MAX_MESSAGE_BYTES,
    daphne_argv,
    defer_autobahn_debug_formatting,
    listen_endpoint,
    redact_path,
)


def test_customer_tokens_never_reach_the_access_log() -> None:
    assert redact_path("/ws/chat/42.secretkey:signature/") == "/ws/chat/<token>/"


def test_other_paths_are_logged_as_they_are() -> None:
    assert redact_path("/ws/console/") == "/ws/console/"
    assert redact_path("/api/v1/public/chats/") == "/api/v1/public/chats/"


def test_daphne_bounds_websocket_messages_above_the_consumer_limit() -> None:
    argv = daphne_argv(host="127.0.0.1", port=8000)
    size = int(argv[argv.index("--websocket-max-message-size") + 1])
    # Frames between the two limits get an error frame; only beyond does daphne close (1009).
    assert size == WEBSOCKET_MAX_MESSAGE_BYTES > MAX_FRAME_BYTES
    assert "--ping-interval" in argv and "--ping-timeout" in argv
    assert argv[-1] == "helpdesk.asgi:application"


def test_daphne_queues_a_reconnect_storm_instead_of_dropping_its_handshakes() -> None:
    argv = daphne_argv(host="127.0.0.1", port=8000)
    endpoint = argv[argv.index("--endpoint") + 1]
    assert endpoint == "tcp:port=8000:interface=127.0.0.1:backlog=4096"
    # Twisted's default backlog (50) is what a restart of 2,000 sockets overflowed.
    assert "-b" not in argv and "-p" not in argv


def test_an_ipv6_interface_is_escaped_for_twisted() -> None:
    assert listen_endpoint(host="[::1]", port=8000).startswith(r"tcp:port=8000:interface=\:\:1:")


def test_autobahn_formats_its_connection_debug_line_only_when_it_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from autobahn.websocket import protocol

    monkeypatch.setattr(protocol, "pformat", protocol.pformat)
    formatted: list[object] = []
    monkeypatch.setattr(pprint, "pformat", lambda obj: formatted.append(obj) or "formatted")
    defer_autobahn_debug_formatting()
    attrs = protocol.pformat([("openHandshakeTimeout", 60, "Factory")])
    assert formatted == []  # nothing done at the connection
    assert str(attrs) == "formatted"  # and the same text if the debug line is written
    assert formatted == [[("openHandshakeTimeout", 60, "Factory")]]
