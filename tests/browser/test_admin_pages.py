"""A supervisor in the admin (issue 6): the chat list with wait, duration, rating and
transfers, and one chat with its notes and transcript; screenshots for docs/screenshots."""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chat import services
from chat.models import Chat
from tests.browser.support import Pages, close_context, db, deadline
from tests.conftest import LiveServer
from tests.factories import (
    PASSWORD,
    AgentFactory,
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
