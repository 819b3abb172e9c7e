from collections.abc import AsyncIterator

import pytest

from tests.chat.consumers.wsutil import Sockets


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    yield opened
    await opened.close_all()
