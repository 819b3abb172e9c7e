"""Run the product under daphne with the flags production needs: `python -m helpdesk.server`.

One place for the flags, used by `make run`, the tests' live servers and the benchmarks.
"""

import argparse
import os
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


def daphne_argv(*, host: str, port: int) -> list[str]:
    return [
        "-b", host,
        "-p", str(port),
        "--websocket-max-message-size", str(WEBSOCKET_MAX_MESSAGE_BYTES),
        "--websocket-max-frame-size", str(WEBSOCKET_MAX_MESSAGE_BYTES),
        "--ping-interval", str(PING_INTERVAL_SECONDS),
        "--ping-timeout", str(PING_TIMEOUT_SECONDS),
        "--websocket_connect_timeout", str(CONNECT_TIMEOUT_SECONDS),
        "--application-close-timeout", "5",
        "helpdesk.asgi:application",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    from daphne.cli import CommandLineInterface

    sys.argv = ["daphne", *daphne_argv(host=args.bind, port=args.port)]
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
