"""Run the product under daphne with the flags production needs: `python -m helpdesk.server`.

One place for the flags, used by `make run`, the tests' live servers and the benchmarks.
"""

import argparse
import os
import pprint
import sys

# Frames up to 64 KiB get an `error` frame from the consumer; daphne itself closes the socket
# (1009) past twice that, so a client can never make the server buffer more.
WEBSOCKET_MAX_MESSAGE_BYTES = 131072
# Server-side keepalive: a half-open socket is noticed within PING_INTERVAL + PING_TIMEOUT.
PING_INTERVAL_SECONDS = 20
PING_TIMEOUT_SECONDS = 30
# daphne's default of 5 s for a whole websocket handshake drops most of a reconnect storm
# (1,070 of 1,200 sockets measured) while the connects queue for the database thread.
CONNECT_TIMEOUT_SECONDS = 60
# Connections the kernel queues before daphne accepts them (twisted's default is 50; Linux caps
# it at net.core.somaxconn). After a restart every client reconnects at once: with 50, 2,000
# sockets overflowed the queue 3,202 times and each overflow cost its client a SYN
# retransmission (1 s, then 3 s, 7 s...); their reconnection took 37 s, 27-31 s with this
# backlog (docs/performance.md).
LISTEN_BACKLOG = 4096


def listen_endpoint(*, host: str, port: int) -> str:
    """The twisted endpoint daphne's `-b HOST -p PORT` would build, with our backlog."""
    interface = host.strip("[]").replace(":", r"\:")
    return f"tcp:port={port}:interface={interface}:backlog={LISTEN_BACKLOG}"


def daphne_argv(*, host: str, port: int) -> list[str]:
    return [
        "--endpoint", listen_endpoint(host=host, port=port),
        "--websocket-max-message-size", str(WEBSOCKET_MAX_MESSAGE_BYTES),
        "--websocket-max-frame-size", str(WEBSOCKET_MAX_MESSAGE_BYTES),
        "--ping-interval", str(PING_INTERVAL_SECONDS),
        "--ping-timeout", str(PING_TIMEOUT_SECONDS),
        "--websocket_connect_timeout", str(CONNECT_TIMEOUT_SECONDS),
        "--application-close-timeout", "5",
        "helpdesk.asgi:application",
    ]  # fmt: skip


CUSTOMER_SOCKET_PREFIX = "/ws/chat/"


def redact_path(path: str) -> str:
    """A customer's socket path holds their token, a credential: keep it out of access logs."""
    if path.startswith(CUSTOMER_SOCKET_PREFIX):
        return CUSTOMER_SOCKET_PREFIX + "<token>/"
    return path


def _redacting_access_log() -> type:
    from daphne.access import AccessLogGenerator

    class RedactingAccessLog(AccessLogGenerator):
        def __call__(self, protocol: object, action: str, details: dict[str, object]) -> None:
            details = {**details, "path": redact_path(str(details.get("path") or ""))}
            super().__call__(protocol, action, details)

    return RedactingAccessLog


class _FormattedWhenLogged:
    """pprint.pformat(obj), computed only if a log line is written with it."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __str__(self) -> str:
        return pprint.pformat(self.obj)

    __repr__ = __str__


def defer_autobahn_debug_formatting() -> None:
    """autobahn pretty-prints its whole configuration for a debug line at every websocket
    connection, whether debug logging is on or not: 9 % of the server's event loop while
    2,000 sockets reconnected after a restart (py-spy, docs/performance.md). Its module then
    formats only what is logged. (Its other `pformat` calls are for timings we do not track
    and for client connections we do not make.)"""
    from autobahn.websocket import protocol

    protocol.pformat = _FormattedWhenLogged  # type: ignore[attr-defined,assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import daphne.cli

    # daphne offers no hook for its access log format; its CLI builds the generator by name.
    daphne.cli.AccessLogGenerator = _redacting_access_log()  # type: ignore[attr-defined]
    defer_autobahn_debug_formatting()
    sys.argv = ["daphne", *daphne_argv(host=args.bind, port=args.port)]
    daphne.cli.CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
