"""The life of a chat as a small pure state machine: which transitions exist, nothing else.

Services consult it before they write; it knows nothing of the database.
"""

from enum import StrEnum


class ChatStatus(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    CLOSED = "closed"


class Transition(StrEnum):
    ASSIGN = "assign"
    CLOSE = "close"
    REQUEUE = "requeue"


_ALLOWED: dict[tuple[ChatStatus, Transition], ChatStatus] = {
    (ChatStatus.QUEUED, Transition.ASSIGN): ChatStatus.ACTIVE,
    # A customer may give up while still queued.
    (ChatStatus.QUEUED, Transition.CLOSE): ChatStatus.CLOSED,
    (ChatStatus.ACTIVE, Transition.CLOSE): ChatStatus.CLOSED,
    # Its agent left (presence lost, logged out): back to the front of the queue.
    (ChatStatus.ACTIVE, Transition.REQUEUE): ChatStatus.QUEUED,
}


class TransitionNotAllowed(Exception):
    def __init__(self, status: ChatStatus, transition: Transition) -> None:
        self.status = status
        self.transition = transition
        super().__init__(f"cannot {transition} a chat that is {status}")


def next_status(status: ChatStatus | str, transition: Transition) -> ChatStatus:
    """The status a chat moves to, or TransitionNotAllowed."""
    current = ChatStatus(status)
    try:
        return _ALLOWED[(current, transition)]
    except KeyError:
        raise TransitionNotAllowed(current, transition) from None


def can(status: ChatStatus | str, transition: Transition) -> bool:
    return (ChatStatus(status), transition) in _ALLOWED
