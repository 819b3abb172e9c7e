"""Fixtures for the service tests: committed transactions and recorded domain signals."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from django.dispatch import Signal

from chat import events

SIGNALS = {
    "chat_queued": events.chat_queued,
    "chat_assigned": events.chat_assigned,
    "message_posted": events.message_posted,
    "chat_closed": events.chat_closed,
}


@pytest.fixture
def committed(
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
) -> Callable[[], AbstractContextManager[Any]]:
    """`with committed(): service(...)` runs the service's on-commit callbacks at the end."""
    return partial(django_capture_on_commit_callbacks, execute=True)


@dataclass
class SignalLog:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.sent]

    def of(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for sent_name, kwargs in self.sent if sent_name == name]


@pytest.fixture
def signals() -> Iterator[SignalLog]:
    """Every domain signal chat sends, in order, with its arguments (sender excluded)."""
    log = SignalLog()
    receivers = []
    for name, signal in SIGNALS.items():

        def receiver(sender: Signal, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            log.sent.append((_name, kwargs))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield log
    for signal, receiver in receivers:
        signal.disconnect(receiver)
