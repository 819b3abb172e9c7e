"""A supervisor in the admin (issue 6): the chat list with wait, duration, rating and
transfers, one chat with its notes and transcript, the topics with their thresholds, business
hours and greeting, and the agents with skills, limits and status; screenshots for
docs/screenshots."""

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from cannedresponses.models import TopicGreeting
from chat import services
from chat.models import Chat
from routing.models import AgentProfile, ConsoleConnection
from tests.browser.support import Pages, close_context, db, deadline
from tests.conftest import LiveServer
from tests.factories import (
    PASSWORD,
    AgentFactory,
    BusinessHoursFactory,
    CannedResponseFactory,
    RatingFactory,
    SupervisorFactory,
    TopicFactory,
)
from tests.helpers import start_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)


def _scene() -> dict[str, object]:
    returns = TopicFactory(name="Returns", slug="returns")
    billing = TopicFactory(name="Billing", slug="billing")
    marta = AgentFactory(first_name="Marta", last_name="Silva")
    closed = start_chat(topic=returns, name="Ana Lima", message="Where is my parcel?")
    services.chat_assign(chat_id=closed.pk, agent=marta)
    services.message_post(
        chat_id=closed.pk,
        sender=services.Participant.agent(marta),
        body="It left the warehouse this morning.",
    )
    services.note_add(chat_id=closed.pk, author=marta, body="Second parcel asked about this week.")
    services.chat_close(chat_id=closed.pk, by=services.Participant.agent(marta))
    RatingFactory(chat=Chat.objects.get(pk=closed.pk), score=5)
    services.chat_assign(
        chat_id=start_chat(topic=billing, name="Ben Okafor", message="Double charge?").pk,
        agent=marta,
    )
    start_chat(topic=returns, name="Chloé Martin", message="Can I swap the size?")
    return {"supervisor": SupervisorFactory(first_name="Sue"), "closed": closed.pk}


@deadline(30)
async def test_a_supervisor_reads_the_chat_list_and_one_chat(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    scene = await db(_scene)()
    server = live_server_factory()
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await pages.new(context)
    try:
        await page.goto(f"{server.url}/admin/chat/chat/")
        await page.get_by_label("Username").fill(scene["supervisor"].username)  # type: ignore[attr-defined]
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()

        rows = page.locator("#result_list tbody tr")
        await expect(rows).to_have_count(3)
        await expect(page.locator("#result_list")).to_contain_text("Ana Lima")
        await expect(page.locator("#result_list")).to_contain_text("5/5")
        await expect(page.locator("#changelist-filter")).to_contain_text("By rating")
        await page.screenshot(path=str(screenshots_dir / "admin-chats.png"), full_page=True)

        await page.goto(f"{server.url}/admin/chat/chat/{scene['closed']}/change/")
        await expect(page.get_by_text("It left the warehouse this morning.")).to_be_visible()
        await expect(page.get_by_text("Second parcel asked about this week.")).to_be_visible()
        await expect(page.get_by_role("link", name="Download HTML")).to_be_visible()
        await page.screenshot(path=str(screenshots_dir / "admin-chat.png"), full_page=True)
    finally:
        await close_context(context)


def _team_scene() -> object:
    nine, five = datetime.time(9), datetime.time(17)
    billing = TopicFactory(
        name="Billing", slug="billing", position=1, amber_after_seconds=45, red_after_seconds=120
    )
    for weekday in range(5):
        BusinessHoursFactory(topic=billing, weekday=weekday, opens=nine, closes=five)
    BusinessHoursFactory(
        topic=billing, weekday=5, opens=datetime.time(10), closes=datetime.time(14)
    )
    returns = TopicFactory(name="Returns", slug="returns", position=2, reply_timeout_seconds=300)
    complaints = TopicFactory(name="Complaints", slug="complaints", position=3)
    TopicGreeting.objects.create(topic=complaints, enabled=False)
    CannedResponseFactory(shortcut="greet", title="Greeting", body="Hi {customer.first_name}!")

    marta = AgentFactory(username="marta", first_name="Marta", last_name="Silva")
    profile = AgentProfile.objects.create(
        user=marta,
        seniority=AgentProfile.Seniority.SENIOR,
        max_chats=4,
        status=AgentProfile.Status.ONLINE,
    )
    profile.topics.set([billing, returns])
    ConsoleConnection.objects.create(agent=marta, channel_name="admin-pages.marta")
    services.chat_assign(
        chat_id=start_chat(topic=billing, name="Ben Okafor", message="Double charge?").pk,
        agent=marta,
    )
    bruno = AgentFactory(username="bruno", first_name="Bruno", last_name="Reis")
    AgentProfile.objects.create(user=bruno, status=AgentProfile.Status.AWAY)
    return SupervisorFactory(first_name="Sue")


@deadline(45)
async def test_a_supervisor_reads_the_topics_and_the_agents(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    supervisor = await db(_team_scene)()
    server = live_server_factory()
    # The topic list is wide (its thresholds are edited in place): room for every column.
    context = await browser.new_context(viewport={"width": 1680, "height": 900})
    page = await pages.new(context)
    try:
        await page.goto(f"{server.url}/admin/helpdesk/topic/")
        await page.get_by_label("Username").fill(supervisor.username)  # type: ignore[attr-defined]
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()

        rows = page.locator("#result_list tbody tr")
        await expect(rows).to_have_count(3)
        # The admin's navigation folds away (remembered for the next pages).
        await page.locator("#toggle-nav-sidebar").click()
        await expect(page.locator("#nav-sidebar")).to_be_hidden()
        billing = rows.filter(has_text="Billing")
        await expect(billing.locator(".field-amber_after_seconds input")).to_have_value("45")
        await expect(billing.locator(".field-red_after_seconds input")).to_have_value("120")
        await expect(billing.locator(".field-business_hours_summary")).to_have_text(
            "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
        )
        await expect(billing.locator(".field-greeting")).to_have_text("on (the shared /greet)")
        returns = rows.filter(has_text="Returns")
        await expect(returns.locator(".field-business_hours_summary")).to_have_text("always open")
        await expect(returns.locator(".field-reply_timeout_seconds")).to_have_text("300")
        await expect(rows.filter(has_text="Complaints").locator(".field-greeting")).to_have_text(
            "off"
        )
        await page.screenshot(path=str(screenshots_dir / "admin-topics.png"), full_page=True)

        await page.goto(f"{server.url}/admin/routing/agentprofile/")
        rows = page.locator("#result_list tbody tr")
        await expect(rows).to_have_count(2)
        marta = rows.filter(has_text="marta")
        await expect(marta.locator(".field-skills")).to_have_text("Billing, Returns")
        await expect(marta.locator(".field-seniority select")).to_have_value("senior")
        await expect(marta.locator(".field-max_chats input")).to_have_value("4")
        await expect(marta.locator(".field-open_chats")).to_have_text("1")
        await expect(marta.locator(".field-status")).to_have_text("Online")
        await expect(marta.locator(".field-console_open img")).to_have_attribute("alt", "True")
        bruno = rows.filter(has_text="bruno")
        await expect(bruno.locator(".field-skills")).to_have_text("every topic")
        await expect(bruno.locator(".field-status")).to_have_text("Away")
        await expect(bruno.locator(".field-console_open img")).to_have_attribute("alt", "False")
        await page.screenshot(path=str(screenshots_dir / "admin-agents.png"), full_page=True)
    finally:
        await close_context(context)
