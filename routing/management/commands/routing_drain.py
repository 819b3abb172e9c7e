"""Drain the queue from the command line: once, or repeatedly for a while.

Operators can run it after changing skills in bulk; the concurrency test runs two of these in
separate processes against the same database.
"""

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from routing import services


class Command(BaseCommand):
    help = "Assign queued chats to available agents (the automatic policy's drain)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seconds",
            type=float,
            default=0.0,
            help="Keep draining for this long (0: drain once and stop).",
        )
        parser.add_argument(
            "--pause", type=float, default=0.01, help="Pause between drains, in seconds."
        )

    def handle(self, *args: Any, seconds: float, pause: float, **options: Any) -> None:
        # A first line, so a caller can wait until Django is up before it starts the clock.
        self.stdout.write("ready")
        self.stdout.flush()
        deadline = time.monotonic() + seconds
        assigned = []
        while True:
            assigned.extend(services.queue_drain())
            if time.monotonic() >= deadline:
                break
            time.sleep(pause)
        self.stdout.write(json.dumps({"assigned": [[a.chat_id, a.agent_id] for a in assigned]}))
