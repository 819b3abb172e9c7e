"""Frames that feature apps add to the sockets (routing's `status`, later `transfer`, ...).

Chat knows nothing of the features: a feature registers a handler in its AppConfig.ready()
and the consumers route frames of that type to it, inside the one database hop of the frame.
"""

from collections.abc import Callable
from typing import Any

from chat.protocol import CORE_TYPES, Role

# handler(actor=Participant, chat_id=int | None, data=dict) -> frames for the sending socket.
# It validates its own fields and raises helpdesk.errors.DomainError subclasses on bad input.
FrameHandler = Callable[..., list[dict[str, Any]]]

_handlers: dict[tuple[Role, str], FrameHandler] = {}


def register_frame_handler(*, role: Role, frame_type: str, handler: FrameHandler) -> None:
    if frame_type in CORE_TYPES:
        raise ValueError(f"'{frame_type}' is a core frame type")
    _handlers[(role, frame_type)] = handler


def frame_handler(*, role: Role, frame_type: str) -> FrameHandler | None:
    return _handlers.get((role, frame_type))
