"""The console and routing: the agent's status, alerts of assigned work, refused takes and chats
taken away."""

import re
from collections.abc import Callable

import pytest
from playwright.async_api import Browser, Page, expect

from chat import services
from chat.models import Chat
from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_console_keyboard import NOTIFY_SPIES
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory
from tests.helpers import start_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The alert rings again every second instead of every ten (window.__alerts counts the rings).
FAST_ALERTS = "window.__alertRepeatMs = 1000;"

expect.set_options(timeout=10_000)

ONLINE_HINT = "Online — new chats are assigned to you"
AWAY_HINT = "Away — you receive no new chats"


def _agent(*, topics: tuple = (), max_chats: int = 3, **kwargs: object) -> object:
    agent = AgentFactory(**kwargs)
    profile, _ = AgentProfile.objects.get_or_create(user=agent)
    profile.max_chats = max_chats
    profile.save()
    profile.topics.set(topics)
    return agent


def _status_of(agent: object) -> str:
    return AgentProfile.objects.get(user=agent).status


async def _status_becomes(agent: object, status: str, page: Page) -> None:
    # The hint changes when the server answered, i.e. after the profile was stored.
    await expect(page.locator("#status-hint")).to_have_text(
        ONLINE_HINT if status == "online" else AWAY_HINT
    )
    assert await db(_status_of)(agent) == status


@deadline(40)
async def test_status_round_trip_is_stored_and_survives_a_reload(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    agent = await db(_agent)()
    server = live_server_factory()
    context = await browser.new_context()
    console = await pages.new(context)
    try:
        await login(console, server.url, agent.username)
        # Nobody chose yet: away (offline), and the console says so.
        await expect(console.locator("#status-hint")).to_have_text(AWAY_HINT)
        await expect(console.get_by_role("radio", name="Away")).to_be_checked()
        assert await db(_status_of)(agent) == "offline"

        await console.get_by_role("radio", name="Online").check()
        await _status_becomes(agent, "online", console)

        # The choice is remembered by this browser and sent again by the new page: even a
        # profile set away meanwhile (as the presence sweep would) comes back online.
        await db(lambda: AgentProfile.objects.filter(user=agent).update(status="away"))()
        await console.reload()
        await expect(console.get_by_role("radio", name="Online")).to_be_checked()
        await _status_becomes(agent, "online", console)

        await console.get_by_role("radio", name="Away").check()
        await _status_becomes(agent, "away", console)
        await console.reload()
        await expect(console.get_by_role("radio", name="Away")).to_be_checked()
        await _status_becomes(agent, "away", console)
    except BaseException:
        await pages.save_artifacts("status")
        raise
    finally:
        await close_context(context)


@deadline(40)
async def test_an_online_agent_is_assigned_a_new_chat_and_the_alert_repeats_until_opened(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    returns = await db(TopicFactory)(name="Returns", slug="returns")
    agent = await db(_agent)(topics=(returns,))
    server = live_server_factory()
    context = await browser.new_context()
    await context.add_init_script(NOTIFY_SPIES + FAST_ALERTS)
    console = await pages.new(context)
    try:
        await login(console, server.url, agent.username)
        await console.get_by_role("radio", name="Online").check()
        await _status_becomes(agent, "online", console)

        response = await context.request.post(
            f"{server.url}/api/v1/public/chats/",
            data={"name": "Dora Reis", "topic": "returns", "message": "Can I return boots?"},
        )
        assert response.status == 201
        dora = console.locator("#mine-list .chat-item", has_text="Dora Reis")
        await expect(dora).to_have_class(re.compile(r"\bis-fresh\b"))
        await expect(console).to_have_title(re.compile(r"^\(1\) Console"))
        assert ["Chat assigned: Dora Reis", "Returns · Can I return boots?"] in (
            await console.evaluate("window.__notes")
        )
        # It rings again and again while the pane stays closed.
        await console.wait_for_function("window.__alerts >= 3", timeout=8_000)

        await dora.locator(".chat-item__open").click()
        await expect(dora).not_to_have_class(re.compile(r"\bis-fresh\b"))
        await expect(console).to_have_title(re.compile(r"^Console"))
        await expect(console.locator(".pane:not([hidden]) textarea")).to_be_focused()
        rings = await console.evaluate("window.__alerts")
        await console.wait_for_timeout(2_500)
        assert await console.evaluate("window.__alerts") == rings
    except BaseException:
        await pages.save_artifacts("assigned-alert")
        raise
    finally:
        await close_context(context)


def _at_capacity() -> tuple[object, Chat, Chat]:
    topic = TopicFactory(name="Billing", slug="billing")
    agent = _agent(topics=(topic,), max_chats=1)
    held = start_chat(topic=topic, name="Ana Lima", message="Charged twice")
    services.chat_assign(chat_id=held.pk, agent=agent)
    waiting = start_chat(topic=topic, name="Bruno Costa", message="Where is my invoice?")
    return agent, held, waiting


@deadline(40)
async def test_a_take_over_the_limit_says_why_and_the_chat_stays_queued(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    agent, _held, waiting = await db(_at_capacity)()
    server = live_server_factory()
    context = await browser.new_context()
    console = await pages.new(context)
    try:
        await login(console, server.url, agent.username)
        bruno = console.locator("#queue-list .chat-item", has_text="Bruno Costa")
        await expect(bruno).to_have_count(1)
        await bruno.get_by_role("button", name="Take").click()

        limit = "You have reached your limit of chats; close one first."
        await expect(bruno.locator(".chat-item__error")).to_have_text(limit)
        pane = console.locator(f'.pane[data-chat-id="{waiting.pk}"]')
        await expect(pane.locator(".pane__notice")).to_have_text(limit)
        # Still queued, still takeable; nothing else moved.
        await expect(bruno.get_by_role("button", name="Take")).to_be_visible()
        await expect(pane.get_by_role("button", name="Take chat")).to_be_visible()
        await expect(pane.locator(".pane__composer")).to_be_hidden()
        await expect(console.locator("#mine-list .chat-item")).to_have_count(1)
        status = await db(lambda: Chat.objects.get(pk=waiting.pk).status)()
        assert status == Chat.Status.QUEUED
    except BaseException:
        await pages.save_artifacts("over-capacity")
        raise
    finally:
        await close_context(context)


def _held_chat() -> tuple[object, object, Chat]:
    topic = TopicFactory(name="Returns", slug="returns")
    agent = _agent(topics=(topic,))
    other = _agent(first_name="Rui")
    chat = start_chat(topic=topic, name="Ana Lima", message="Where is my parcel?")
    services.chat_assign(chat_id=chat.pk, agent=agent)
    return agent, other, chat


@deadline(40)
async def test_a_chat_taken_away_turns_read_only(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    agent, other, chat = await db(_held_chat)()
    # Presence expires after a second without a heartbeat (every 20 s), so the agent's open
    # console counts as gone: the next sweep (another console closing) requeues their chat,
    # and the console, still connected, hears it.
    server = live_server_factory(
        env={"HELPDESK_PRESENCE_TTL_SECONDS": "1", "HELPDESK_PRESENCE_GRACE_SECONDS": "1"}
    )
    context = await browser.new_context()
    console = await pages.new(context)
    try:
        await login(console, server.url, agent.username)
        await console.get_by_role("radio", name="Online").check()
        await _status_becomes(agent, "online", console)
        pane = console.locator(f'.pane[data-chat-id="{chat.pk}"]')
        await expect(pane.locator("textarea")).to_be_editable()
        await console.wait_for_timeout(2_000)

        colleague = await browser.new_context()
        await login(await pages.new(colleague), server.url, other.username)
        await close_context(colleague)

        await expect(pane.locator(".pane__notice")).to_contain_text(
            "went back to the queue: you can no longer write in it"
        )
        await expect(pane.locator(".pane__composer")).to_be_hidden()
        await expect(pane.locator("textarea")).to_be_disabled()
        queued = console.locator("#queue-list .chat-item", has_text="Ana Lima")
        await expect(queued).to_be_visible()
    except BaseException:
        await pages.save_artifacts("taken-away")
        raise
    finally:
        await close_context(context)


def _thresholds() -> object:
    from datetime import timedelta

    from django.utils import timezone

    # A 20 s margin between amber and red: logging in on a loaded machine must not skip amber.
    quick = TopicFactory(name="Urgent", slug="urgent", amber_after_seconds=10, red_after_seconds=40)
    default = TopicFactory(name="Returns", slug="returns")
    # The console shows the queue of the agent's topics: both of them.
    agent = _agent(topics=(quick, default))
    now = timezone.now()
    for topic, name in ((quick, "Ana Lima"), (default, "Bruno Costa")):
        chat = start_chat(topic=topic, name=name, message="Hello?")
        Chat.objects.filter(pk=chat.pk).update(awaiting_reply_since=now - timedelta(seconds=20))
    return agent


@deadline(60)
async def test_wait_colours_follow_the_topic_thresholds(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    agent = await db(_thresholds)()
    server = live_server_factory()
    context = await browser.new_context()
    console = await pages.new(context)
    try:
        await login(console, server.url, agent.username)
        queued = console.locator("#queue-list .chat-item")
        # Both waited 20 s: amber past Urgent's 10 s, green under the default 60 s.
        await expect(queued.filter(has_text="Ana Lima")).to_have_attribute("data-wait", "amber")
        await expect(queued.filter(has_text="Bruno Costa")).to_have_attribute("data-wait", "green")
        # Past Urgent's 40 s it turns red, live.
        await expect(queued.filter(has_text="Ana Lima")).to_have_attribute(
            "data-wait", "red", timeout=30_000
        )
    except BaseException:
        await pages.save_artifacts("thresholds")
        raise
    finally:
        await close_context(context)
