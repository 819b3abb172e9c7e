"""Any websocket path that is not ours gets an error frame and close code 4004 (no database)."""

import pytest

from tests.chat.consumers.wsutil import refused_with


@pytest.mark.parametrize(
    "path",
    [
        "/ws/nope/",
        "/ws/",
        "/",
        "/ws/console",  # no trailing slash
        "/ws/console/extra/",
        "/ws/chat/",  # no token
        "/ws/chat/has%20space/",
        "/api/v1/public/chats/",
    ],
)
async def test_an_unknown_websocket_path_is_closed_with_4004(sockets, path: str) -> None:
    await refused_with(sockets.communicator(path), "not_found", 4004)
