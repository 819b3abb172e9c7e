"""The console with several chats: keyboard switching, per-chat drafts, wait colours, and
the ring and notification of new work."""

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.async_api import Browser, expect

from chat import services
from chat.models import Chat
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory
from tests.helpers import start_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Record desktop notifications (as if permitted) and the beeps of the WebAudio ring.
NOTIFY_SPIES = """
window.__notes = [];
window.__beeps = 0;
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notes.push([title, options && options.body]); }
  close() {}
};
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.__beeps += 1;
  return createOscillator.call(this);
};
"""

expect.set_options(timeout=10_000)


def _set_up() -> tuple[object, list[Chat]]:
    returns = TopicFactory(name="Returns", slug="returns")
    billing = TopicFactory(name="Billing", slug="billing")
    products = TopicFactory(name="Product questions", slug="products")
    agent = AgentFactory(first_name="Marta", last_name="Silva")
    ana = start_chat(
        topic=returns, name="Ana Lima", message="Where is my parcel? It was due Monday."
    )
    bruno = start_chat(
        topic=billing,
        name="Bruno Costa",
        email="bruno@example.com",
        message="I was charged twice for order 4411.",
    )
    carla = start_chat(
        topic=products,
        name="Carla Mendes",
        email="",
        message="Does the field jacket run small?",
    )
    for chat in (ana, bruno):
        services.chat_assign(chat_id=chat.pk, agent=agent)
    # Waits of 4 min (red), 2 min (amber) and 20 s (green).
    now = timezone.now()
    for chat, waited in ((ana, 240), (bruno, 120), (carla, 20)):
        Chat.objects.filter(pk=chat.pk).update(awaiting_reply_since=now - timedelta(seconds=waited))
    return agent, [ana, bruno, carla]


@deadline(60)
async def test_alt_digits_switch_panes_and_the_composer_names_the_customer(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    agent, (ana, bruno, carla) = await db(_set_up)()
    server = live_server_factory()
    context = await browser.new_context(viewport={"width": 1360, "height": 820})
    await context.add_init_script(NOTIFY_SPIES)
    console = await pages.new(context)
    try:
        await login(console, server.url, agent.username)
        mine = console.locator("#mine-list .chat-item")
        await expect(mine).to_have_count(2)
        # Longest wait first, coloured by how long.
        await expect(mine.nth(0)).to_contain_text("Ana Lima")
        await expect(mine.nth(0)).to_have_attribute("data-wait", "red")
        await expect(mine.nth(1)).to_contain_text("Bruno Costa")
        await expect(mine.nth(1)).to_have_attribute("data-wait", "amber")
        queued = console.locator("#queue-list .chat-item")
        await expect(queued).to_have_count(1)
        await expect(queued).to_have_attribute("data-wait", "green")

        replying = console.locator(".pane:not([hidden]) .pane__replying")
        composer = console.locator(".pane:not([hidden]) textarea")

        await console.keyboard.press("Alt+1")
        await expect(replying).to_have_text("Replying to Ana Lima · Returns")
        await expect(composer).to_be_focused()
        await composer.fill("Let me look at the tracking")

        await console.keyboard.press("Alt+2")
        await expect(replying).to_have_text("Replying to Bruno Costa · Billing")
        await expect(console.locator(f'.pane[data-chat-id="{bruno.pk}"]')).to_be_visible()
        await expect(console.locator(f'.pane[data-chat-id="{ana.pk}"]')).to_be_hidden()
        await expect(composer).to_have_value("")
        await composer.fill("Sorry about that, Bruno. I am refunding the second charge now.")
        await composer.press("Enter")
        sent = console.locator(".pane:not([hidden]) .msg--agent", has_text="refunding")
        await expect(sent).to_have_attribute("data-state", "sent")
        # Answered: Bruno no longer waits, so Ana stays first and Bruno's timer stops.
        await expect(mine.nth(1).locator(".chat-item__timer")).to_have_text("")

        await console.keyboard.press("Alt+ArrowUp")
        await expect(replying).to_have_text("Replying to Ana Lima · Returns")
        await expect(composer).to_have_value("Let me look at the tracking")

        # Alt+3 is the queued chat: no composer, a Take button instead.
        await console.keyboard.press("Alt+3")
        carla_pane = console.locator(f'.pane[data-chat-id="{carla.pk}"]')
        await expect(carla_pane).to_be_visible()
        await expect(carla_pane.locator(".pane__composer")).to_be_hidden()
        await expect(carla_pane.get_by_role("button", name="Take chat")).to_be_focused()
        await expect(carla_pane.locator(".msg--customer")).to_contain_text("field jacket")

        await console.keyboard.press("Alt+2")
        await expect(replying).to_have_text("Replying to Bruno Costa · Billing")

        # New work rings and notifies, and stays flagged until opened.
        response = await context.request.post(
            f"{server.url}/api/v1/public/chats/",
            data={"name": "Dora Reis", "topic": "returns", "message": "Can I return boots?"},
        )
        assert response.status == 201
        dora = console.locator("#queue-list .chat-item", has_text="Dora Reis")
        await expect(dora).to_have_class(re.compile(r"\bis-fresh\b"))
        await expect(console).to_have_title(re.compile(r"^\(1\) Console"))
        assert await console.evaluate("window.__notes") == [
            ["New chat: Dora Reis", "Returns · Can I return boots?"]
        ]
        assert await console.evaluate("window.__beeps") >= 1
        await expect(replying).to_have_text("Replying to Bruno Costa · Billing")
        await console.screenshot(path=str(screenshots_dir / "console.png"))

        await dora.locator(".chat-item__open").click()
        await expect(dora).not_to_have_class(re.compile(r"\bis-fresh\b"))
        await expect(console).to_have_title(re.compile(r"^Console"))
    except BaseException:
        await pages.save_artifacts("keyboard")
        raise
    finally:
        await close_context(context)
