"""Supervisors in the console (issue 3): a customer left waiting past the topic's red threshold
is flagged to the supervisor, who opens the colleague's chat from "Needs attention", reads the
history live and steps in with a message; the agent who has the chat sees it too."""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chat import services as chat_services
from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, SupervisorFactory, TopicFactory
from tests.helpers import start_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

# Consoles beat every second, so the red-threshold sweep (run after each beat) is quick.
FAST_SWEEPS = {"HELPDESK_CONSOLE_HEARTBEAT_SECONDS": "1"}


def _scene() -> tuple[object, object]:
    urgent = TopicFactory(
        name="Complaints", slug="complaints", amber_after_seconds=1, red_after_seconds=2
    )
    bruno = AgentFactory(first_name="Bruno", last_name="Agent")
    AgentProfile.objects.create(user=bruno, status=AgentProfile.Status.AWAY).topics.set([urgent])
    maria = AgentFactory(first_name="Maria", last_name="Lead")
    maria.groups.add(*SupervisorFactory().groups.all())
    # Away: the supervisor watches the team, the router gives her nothing.
    AgentProfile.objects.create(user=maria, status=AgentProfile.Status.AWAY)
    chat = start_chat(topic=urgent, name="Ana Lima", message="My order arrived broken!")
    chat_services.chat_assign(chat_id=chat.pk, agent=bruno)
    return bruno, maria


@deadline(40)
async def test_a_supervisor_sees_a_late_chat_and_steps_in(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    bruno, maria = await db(_scene)()
    server = live_server_factory(env=FAST_SWEEPS)
    maria_ctx = await browser.new_context()
    bruno_ctx = await browser.new_context()
    contexts = (maria_ctx, bruno_ctx)
    maria_console = await pages.new(maria_ctx)
    bruno_console = await pages.new(bruno_ctx)
    try:
        await login(bruno_console, server.url, bruno.username)
        await login(maria_console, server.url, maria.username)

        # --- Bruno has not answered past the 2 s red limit: Maria is told.
        flagged = maria_console.locator("#attention-list .attention-item", has_text="Ana Lima")
        await expect(flagged).to_be_visible()
        await expect(flagged).to_contain_text("Waiting past the red limit")
        await expect(flagged).to_contain_text("with Bruno")

        # --- She opens it: the colleague's chat, live, with its history, and she may write.
        await flagged.locator(".attention-item__open").click()
        pane = maria_console.locator(".pane:not([hidden])")
        await expect(pane.locator(".msg--customer", has_text="arrived broken")).to_be_visible()
        await expect(pane.locator(".pane__notice")).to_contain_text("Bruno has this chat")
        await expect(
            maria_console.locator("#watching-list .chat-item", has_text="Ana Lima")
        ).to_be_visible()
        await pane.locator("textarea").fill("Maria here, I am sorry. Bruno will help you now.")
        await pane.locator("textarea").press("Enter")

        # The agent who has the chat sees her message in his pane.
        await (
            bruno_console.locator("#mine-list .chat-item", has_text="Ana Lima")
            .locator(".chat-item__open")
            .click()
        )
        bruno_pane = bruno_console.locator(".pane:not([hidden])")
        await expect(bruno_pane.locator(".msg", has_text="Maria here")).to_be_visible()

        # --- Bruno answers; Maria's pane follows live.
        await bruno_pane.locator("textarea").fill("Hi Ana, a replacement is on its way.")
        await bruno_pane.locator("textarea").press("Enter")
        await expect(pane.locator(".msg", has_text="replacement is on its way")).to_be_visible()
        await maria_console.screenshot(path=str(screenshots_dir / "console-supervisor.png"))
    except BaseException:
        await pages.save_artifacts("supervisor-attention")
        raise
    finally:
        for context in contexts:
            await close_context(context)
