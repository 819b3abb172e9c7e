"""Widget identity in a real browser: a shop page whose customer is signed in hands their signed
id to the widget; the chat joins their one customer record and the agent sees them verified,
with their earlier chat in the history (docs/widget-identity.md)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chat import blocking, services
from chat.models import Chat
from chat.services import Participant
from helpdesk.identity import (
    DEMO_IDENTITY_SECRET,
    DEMO_SHOP_CUSTOMER,
    identity_secret_create,
    identity_signature,
)
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login, open_widget
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)


def _scene() -> dict[str, int | object]:
    topic = TopicFactory(name="Returns", slug="returns")
    secret = identity_secret_create(name=DEMO_IDENTITY_SECRET)
    external_id = DEMO_SHOP_CUSTOMER["id"]
    earlier = blocking.chat_start_for_visitor(
        topic=topic,
        name="Ana",
        first_message="My boots are too small.",
        external_id=external_id,
        external_id_hash=identity_signature(secret=secret.secret, external_id=external_id),
    )
    services.chat_close(chat_id=earlier.pk, by=Participant.customer())
    return {"earlier": earlier.pk, "agent": AgentFactory(first_name="Marta")}


@deadline(60)
async def test_a_signed_in_shop_customer_is_verified_for_the_agent(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    scene = await db(_scene)()
    server = live_server_factory()
    customer_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    agent_ctx = await browser.new_context(viewport={"width": 1360, "height": 820})
    shop = await pages.new(customer_ctx)
    console = await pages.new(agent_ctx)
    try:
        await shop.goto(f"{server.url}/widget-demo/?signed_in=1")
        await expect(shop.get_by_text("Signed in as Ana Lima (identity verified)")).to_be_visible()
        chat = await open_widget(shop)
        # The site's details are filled in, and the signed id left the frame's address.
        await expect(chat.locator("#cw-name")).to_have_value(DEMO_SHOP_CUSTOMER["name"])
        await expect(chat.locator("#cw-email")).to_have_value(DEMO_SHOP_CUSTOMER["email"])
        assert "identity" not in chat.url
        await expect(chat.locator("#cw-consent-transcript")).to_be_enabled()
        await chat.locator("#cw-topic").select_option("returns")
        await chat.locator("#cw-message").fill("The new pair is too big now.")
        await chat.get_by_role("button", name="Start chat").click()
        await expect(chat.locator("#cw-status")).to_have_text("Waiting for an agent…")

        rows = await db(
            lambda: list(
                Chat.objects.order_by("pk").values_list("customer_id", "customer__external_id")
            )
        )()
        assert len(rows) == 2 and rows[0] == rows[1]
        assert rows[1][1] == DEMO_SHOP_CUSTOMER["id"]

        await login(console, server.url, scene["agent"].username)  # type: ignore[attr-defined]
        queued = console.locator("#queue-list .chat-item", has_text="Ana Lima")
        await queued.get_by_role("button", name="Take").click()
        await console.locator("#mine-list .chat-item", has_text="Ana Lima").click()
        aside = console.locator(".pane:not([hidden]) .pane__aside")
        await expect(aside.locator(".summary__verified")).to_have_text("✓ verified by the site")
        await expect(aside.get_by_role("link", name="Transcript of the chat")).to_have_attribute(
            "href", f"{server.url}/console/chats/{scene['earlier']}/"
        )
        await console.screenshot(path=str(screenshots_dir / "console-verified-customer.png"))
    except BaseException:
        await pages.save_artifacts("widget-identity")
        raise
    finally:
        await close_context(customer_ctx)
        await close_context(agent_ctx)
