"""The supervisors' metrics page (issue 6): over known chats, a supervisor picks a range, reads
the figures and charts per agent, per topic and per day, and downloads them as CSV."""

import csv
import datetime
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from routing.metrics_views import CSV_HEADER
from routing.templatetags.metrics_format import NOT_MEASURED
from tests.browser.support import Pages, close_context, db, deadline
from tests.conftest import LiveServer
from tests.factories import PASSWORD, SupervisorFactory
from tests.routing.metrics_support import DAY, three_chats

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

DAY_BEFORE = DAY - datetime.timedelta(days=1)


def _scene() -> object:
    three_chats()
    return SupervisorFactory(first_name="Maria", last_name="Lead")


async def _show(page: Page, *, since: datetime.date, until: datetime.date, group_by: str) -> None:
    """Fill the form as a supervisor does and wait for the page that answers it."""
    await page.get_by_label("Since").fill(since.isoformat())
    await page.get_by_label("Until").fill(until.isoformat())
    await page.get_by_label("Group by").select_option(group_by)
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(rf"group_by={group_by}"))
    await expect(page.locator("#content-main > p")).to_contain_text(f"grouped by {group_by}")


def _table(page: Page) -> object:
    return page.locator("table.metrics tbody tr")


async def _bar_titles(page: Page, chart: str) -> list[str]:
    return await page.locator(f'svg[aria-label="{chart}"] g > title').all_text_contents()


@deadline(60)
async def test_a_supervisor_reads_the_metrics_and_downloads_them(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    supervisor = await db(_scene)()
    server = live_server_factory()
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await pages.new(context)
    try:
        await page.goto(f"{server.url}/accounts/login/?next=/admin/metrics/")
        await page.get_by_label("Username").fill(supervisor.username)  # type: ignore[attr-defined]
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(re.compile(r"/admin/metrics/$"))
        # The last seven days by default, one column per day: none of the chats is in them.
        await expect(page.locator("#content-main > p")).to_contain_text("grouped by day")
        await expect(_table(page)).to_have_count(7)
        await expect(page.locator("table.metrics tfoot")).to_contain_text("Total")

        # --- The day of the chats, per agent: one row and one bar per agent.
        await _show(page, since=DAY, until=DAY, group_by="agent")
        rows = _table(page)
        await expect(rows).to_have_count(3)
        alice = rows.filter(has_text="Alice Ames")
        # Alice: answered after 1 min, handled for 10 min 30 s, rated 5.
        await expect(alice.locator("td").nth(1)).to_have_text("1")
        await expect(alice.locator("td").nth(2)).to_have_text("1 min 00 s")
        await expect(alice.locator("td").nth(3)).to_have_text("10 min 30 s")
        await expect(alice.locator("td").nth(9)).to_contain_text("5.00")
        await expect(rows.filter(has_text="No agent").locator("td").nth(5)).to_contain_text("100 %")
        await expect(page.locator("table.metrics tfoot td").nth(1)).to_have_text("3")
        assert await _bar_titles(page, "Chats per agent") == [
            "Alice Ames: 1",
            "Bob Berg: 1",
            "No agent: 1",
        ]
        assert await _bar_titles(page, "CSAT (average of 5) per agent") == [
            "Alice Ames: 5.00",
            "Bob Berg: 3.00",
            f"No agent: {NOT_MEASURED}",
        ]
        await expect(page.locator('svg[aria-label="Chats per agent"] rect.bar')).to_have_count(3)
        await page.screenshot(path=str(screenshots_dir / "admin-metrics.png"), full_page=True)

        # --- Per topic.
        await _show(page, since=DAY, until=DAY, group_by="topic")
        await expect(_table(page)).to_have_count(2)
        billing = _table(page).filter(has_text="Billing")
        await expect(billing.locator("td").nth(1)).to_have_text("2")
        await expect(billing.locator("td").nth(2)).to_have_text("2 min 00 s")
        assert await _bar_titles(page, "Chats per topic") == ["Billing: 2", "Shipping: 1"]

        # --- Per day, over two days: the day before holds the fourth chat.
        await _show(page, since=DAY_BEFORE, until=DAY, group_by="day")
        await expect(_table(page)).to_have_count(2)
        assert await _bar_titles(page, "Chats per day") == [
            f"{DAY_BEFORE.isoformat()}: 1",
            f"{DAY.isoformat()}: 3",
        ]
        await expect(page.locator("table.metrics tfoot td").nth(1)).to_have_text("4")

        # --- The CSV of what is on screen.
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Download CSV").click()
        download = await info.value
        assert download.suggested_filename == f"metrics-day-{DAY_BEFORE}-{DAY}.csv"
        body = Path(await download.path()).read_bytes().decode("utf-8")
        assert body.startswith("\ufeff")  # Excel reads it as UTF-8
        header, *days, total = list(csv.reader(io.StringIO(body[1:])))
        assert header == CSV_HEADER
        assert [(row[0], row[1]) for row in days] == [
            (DAY_BEFORE.isoformat(), "1"),
            (DAY.isoformat(), "3"),
        ]
        assert total[:2] == ["Total", "4"]
    except BaseException:
        await pages.save_artifacts("metrics-page")
        raise
    finally:
        await close_context(context)
