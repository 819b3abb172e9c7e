"""Origins: the console only from our own pages; the customer socket also from the websites
allowed to embed the widget, or from clients that send no Origin. Anything else: no handshake."""

import pytest

from chat.tokens import customer_token_make
from tests.chat.consumers.wsutil import OWN_ORIGIN, db, handshake_refused, pong_next
from tests.factories import AgentFactory
from tests.helpers import start_chat

# Refused handshakes never reach a consumer, so those tests need no database.
with_db = pytest.mark.django_db(transaction=True)

WIDGET = "https://shop.example.com"
FOREIGN = [
    "https://evil.example.com",
    "http://shop.example.com",  # the widget origin's host, but another scheme
    "https://shop.example.com.evil.net",
    "https://127.0.0.1.evil.net",
    "null",
    "file://",
    "",
]


@pytest.fixture(autouse=True)
def _widget_origins(settings) -> None:
    settings.HELPDESK_WIDGET_ORIGINS = [WIDGET, "https://partner.example.org:8443"]


@with_db
@pytest.mark.parametrize(
    "origin",
    [
        None,
        OWN_ORIGIN,
        "http://localhost:8000",
        WIDGET,
        WIDGET + "/",
        "HTTPS://SHOP.EXAMPLE.COM",
        "https://partner.example.org:8443",
    ],
)
async def test_the_customer_socket_accepts_our_pages_widget_sites_and_no_origin(
    sockets, origin
) -> None:
    chat = await db(start_chat)()
    comm, first = await sockets.customer(chat, origin=origin)
    assert first["id"] == chat.pk
    await pong_next(comm)


@pytest.mark.parametrize("origin", [*FOREIGN, "https://partner.example.org"])
async def test_the_customer_socket_refuses_foreign_origins(sockets, origin: str) -> None:
    token = customer_token_make(chat_id=1, customer_key="any-key")
    await handshake_refused(sockets.communicator(f"/ws/chat/{token}/", origin=origin))


@with_db
async def test_the_console_accepts_our_own_pages(sockets) -> None:
    agent = await db(AgentFactory)()
    for origin in (OWN_ORIGIN, "http://localhost", "https://127.0.0.1:8443"):
        comm, _ = await sockets.console(agent, origin=origin)
        await pong_next(comm)


@pytest.mark.parametrize("origin", [None, WIDGET, "https://partner.example.org:8443", *FOREIGN])
async def test_the_console_refuses_any_other_origin(sockets, origin) -> None:
    # Without the origin check an anonymous visitor would be accepted, told why and closed
    # (4001); a refused handshake is never accepted at all.
    await handshake_refused(sockets.communicator("/ws/console/", origin=origin))


@with_db
async def test_the_console_refuses_a_foreign_origin_even_for_a_logged_in_agent(sockets) -> None:
    agent = await db(AgentFactory)()
    for origin in (None, WIDGET, "https://evil.example.com"):
        await handshake_refused(sockets.communicator("/ws/console/", origin=origin, user=agent))


@with_db
async def test_allowed_hosts_decide_which_pages_are_ours(sockets, settings) -> None:
    settings.ALLOWED_HOSTS = ["helpdesk.example.com"]
    agent = await db(AgentFactory)()
    comm, _ = await sockets.console(agent, origin="https://helpdesk.example.com")
    await pong_next(comm)
    await handshake_refused(sockets.communicator("/ws/console/", origin=OWN_ORIGIN, user=agent))
