"""A supervisor whispers to an agent (issue 6): from the live page's link to a late chat she
opens it watched in her console and adds an internal note; the agent's console shows it as a
note, and the customer never gets it. Absence is proven, not waited for: a message the agent
sends after seeing the note reaches the customer, so the note would have arrived before it."""

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.async_api import Browser, WebSocket, expect

from chat import services as chat_services
from chat.models import Chat, ChatNote
from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import PASSWORD, AgentFactory, ConsoleSupervisorFactory, TopicFactory
from tests.helpers import start_chat, token_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

WHISPER = "Offer her a free exchange, the size chart is wrong."
ANSWER = "Hi Ana, we can exchange the boots for free."


def _scene() -> dict[str, object]:
    returns = TopicFactory(name="Returns", slug="returns")
    bruno = AgentFactory(first_name="Bruno", last_name="Agent")
    # Away: the router gives nobody anything by itself; the chat is assigned below.
    AgentProfile.objects.create(user=bruno, status=AgentProfile.Status.AWAY).topics.set([returns])
    maria = ConsoleSupervisorFactory(first_name="Maria", last_name="Lead")
    AgentProfile.objects.create(user=maria, status=AgentProfile.Status.AWAY)
    chat = start_chat(topic=returns, name="Ana Lima", message="Can I return boots?")
    chat_services.chat_assign(chat_id=chat.pk, agent=bruno)
    # Ana has waited ten minutes for an answer: past the red limit, so the live page links
    # her chat (a fixed past moment instead of waiting for the clock).
    Chat.objects.filter(pk=chat.pk).update(
        awaiting_reply_since=timezone.now() - timedelta(minutes=10)
    )
    return {"bruno": bruno, "maria": maria, "chat": chat.pk, "token": token_for(chat)}


@deadline(60)
async def test_a_whisper_from_the_live_page_reaches_the_agent_only(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    scene = await db(_scene)()
    chat_id = scene["chat"]
    server = live_server_factory()
    maria_ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    bruno_ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    ana_ctx = await browser.new_context(viewport={"width": 420, "height": 760})
    contexts = (maria_ctx, bruno_ctx, ana_ctx)
    maria, bruno, ana = [await pages.new(context) for context in contexts]
    # Everything Ana's browser receives on its sockets.
    ana_frames: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: ana_frames.append(str(payload)))

    ana.on("websocket", on_socket)
    try:
        await ana.goto(f"{server.url}/chat/#token={scene['token']}")
        await expect(ana.locator(".msg--customer", has_text="return boots")).to_be_visible()

        await login(bruno, server.url, scene["bruno"].username)  # type: ignore[attr-defined]
        await (
            bruno.locator("#mine-list .chat-item", has_text="Ana Lima")
            .locator(".chat-item__open")
            .click()
        )
        bruno_pane = bruno.locator(f'.pane[data-chat-id="{chat_id}"]')
        await expect(bruno_pane.locator(".msg--customer", has_text="return boots")).to_be_visible()

        # --- Maria's live page lists the late chat; its link opens it watched in her console.
        await maria.goto(f"{server.url}/accounts/login/?next=/admin/live/")
        await maria.get_by_label("Username").fill(scene["maria"].username)  # type: ignore[attr-defined]
        await maria.get_by_label("Password").fill(PASSWORD)
        await maria.get_by_role("button", name="Log in").click()
        await expect(maria).to_have_url(re.compile(r"/admin/live/$"))
        link = maria.get_by_role("link", name="Open Ana Lima's chat in the console")
        await expect(link).to_have_attribute("href", f"/console/#watch={chat_id}")
        await link.click()
        await expect(maria.locator("#console-conn")).to_have_text("Connected")
        maria_pane = maria.locator(f'.pane[data-chat-id="{chat_id}"]')
        await expect(maria_pane.locator(".pane__notice")).to_contain_text("Bruno has this chat")
        await expect(
            maria.locator("#watching-list .chat-item", has_text="Ana Lima")
        ).to_be_visible()
        await expect(maria_pane.locator(".msg--customer", has_text="return boots")).to_be_visible()

        # --- She whispers: an internal note, added in the side panel.
        aside = maria_pane.locator(".pane__aside")
        await aside.get_by_role("button", name="Add a note").click()
        note = aside.get_by_label("New internal note")
        await note.fill(WHISPER)
        await note.press("Control+Enter")
        await expect(aside.locator(".summary__note-body")).to_have_text(WHISPER)

        # Bruno's console shows it as an internal note, by Maria, not as a chat message.
        bruno_aside = bruno_pane.locator(".pane__aside")
        await expect(bruno_aside.locator(".summary__note-body")).to_have_text(WHISPER)
        await expect(bruno_aside.locator(".summary__note-meta")).to_contain_text("Maria")
        notes = await db(lambda: list(ChatNote.objects.values_list("chat_id", "body")))()
        assert notes == [(chat_id, WHISPER)]

        # --- Bruno answers after reading it: Ana gets the answer; Maria's watched pane too.
        composer = bruno_pane.locator(".hd-composer__input")
        await composer.fill(ANSWER)
        await composer.press("Enter")
        await expect(ana.locator(".msg", has_text=ANSWER)).to_be_visible()
        await expect(maria_pane.locator(".msg", has_text=ANSWER)).to_be_visible()
        await expect(bruno_pane.locator(".msg", has_text=ANSWER)).to_be_visible()

        # The note was published before the answer (Bruno had it on screen): had it reached
        # Ana's socket, it would be there by now. It is in no frame and nowhere on her page.
        assert ana_frames, "Ana's socket received nothing"
        assert not [frame for frame in ana_frames if "free exchange, the size" in frame]
        assert "note" not in {json.loads(frame).get("type") for frame in ana_frames}
        await expect(ana.locator("body")).not_to_contain_text(WHISPER)
        # Nor is it a message in the staff consoles' conversations.
        await expect(bruno_pane.locator(".msg", has_text=WHISPER)).to_have_count(0)
        await expect(maria_pane.locator(".msg", has_text=WHISPER)).to_have_count(0)
        await bruno.screenshot(path=str(screenshots_dir / "console-whisper.png"))
    except BaseException:
        await pages.save_artifacts("supervisor-whisper")
        raise
    finally:
        for context in contexts:
            await close_context(context)
