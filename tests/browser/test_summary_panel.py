"""The console's side panel (issue 4): an agent with two chats switches between their panes
and each opens on its own summary (first question, unanswered count, canned share, the
customer's earlier chat and ticket with links); an internal note added in the panel is listed
at once, and never reaches the customer's page or socket."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, WebSocket, expect

from chat import services
from chat.models import ChatNote
from chat.services import Participant
from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TicketFactory, TopicFactory
from tests.helpers import start_chat, token_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

# Markup in a note is text: it must show as typed, never become an element.
NOTE = "VIP: refund of order 4417 approved by Sara <b>do not</b> ask again"


def _scene() -> dict[str, object]:
    returns = TopicFactory(name="Returns", slug="returns", position=1)
    billing = TopicFactory(name="Billing", slug="billing", position=2)
    marta = AgentFactory(first_name="Marta", last_name="Silva")
    # Away: the router gives her nothing by itself; the chats are assigned below.
    AgentProfile.objects.create(user=marta, status=AgentProfile.Status.AWAY)
    me = Participant.agent(marta)

    # Ana came before: a closed chat and a ticket with the same email.
    earlier = start_chat(topic=returns, name="Ana Lima", message="My parcel is late.")
    services.chat_assign(chat_id=earlier.pk, agent=marta)
    services.message_post(chat_id=earlier.pk, sender=me, body="It ships tomorrow.")
    services.chat_close(chat_id=earlier.pk, by=me)
    ticket = TicketFactory(topic=billing, email="ana@example.com", body="Charged twice?")

    ana = start_chat(topic=returns, name="Ana Lima", message="Where is my parcel 4417?")
    services.chat_assign(chat_id=ana.pk, agent=marta)
    services.message_post(chat_id=ana.pk, sender=Participant.customer(), body="Hello? Anyone?")

    bruno = start_chat(
        topic=billing,
        name="Bruno Reis",
        email="bruno@example.com",
        message="Can I change my billing address?",
    )
    services.chat_assign(chat_id=bruno.pk, agent=marta)
    services.message_post(
        chat_id=bruno.pk, sender=me, body="Hi Bruno, happy to help!", origin="canned"
    )
    services.message_post(chat_id=bruno.pk, sender=Participant.customer(), body="Great, thanks.")
    return {
        "marta": marta,
        "ana": ana.pk,
        "ana_token": token_for(ana),
        "earlier": earlier.pk,
        "ticket": ticket.reference,
    }


async def _open(console: Page, name: str) -> None:
    await (
        console.locator("#mine-list .chat-item", has_text=name).locator(".chat-item__open").click()
    )


@deadline(25)
async def test_each_pane_opens_on_its_summary_and_notes_stay_internal(
    browser: Browser,
    live_server_factory: Callable[..., LiveServer],
    pages: Pages,
    screenshots_dir: Path,
) -> None:
    scene = await db(_scene)()
    server = live_server_factory()
    agent_ctx = await browser.new_context(viewport={"width": 1440, "height": 1000})
    customer_ctx = await browser.new_context(viewport={"width": 420, "height": 760})
    console = await pages.new(agent_ctx)
    # The customer's page finds its chat where the widget keeps it.
    stored = {
        "id": scene["ana"],
        "token": scene["ana_token"],
        "ws_url": f"{server.ws_url}/ws/chat/{scene['ana_token']}/",
    }
    await customer_ctx.add_init_script(
        f"localStorage.setItem('helpdesk.chat', {json.dumps(json.dumps(stored))});"
    )
    customer = await pages.new(customer_ctx)
    customer_frames: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: customer_frames.append(str(payload)))

    customer.on("websocket", on_socket)
    try:
        await customer.goto(f"{server.url}/chat/")
        await expect(customer.get_by_text("Hello? Anyone?")).to_be_visible()

        await login(console, server.url, scene["marta"].username)  # type: ignore[attr-defined]

        # --- Ana's pane: her summary beside the conversation.
        await _open(console, "Ana Lima")
        pane = console.locator(".pane:not([hidden])")
        aside = pane.locator(".pane__aside")
        await expect(aside).to_be_visible()
        await expect(aside.get_by_role("heading", name="Summary")).to_be_visible()
        await expect(aside.locator('[data-quote="first"] .summary__quote')).to_have_text(
            "Where is my parcel 4417?"
        )
        await expect(aside.locator('[data-quote="last"] .summary__quote')).to_have_text(
            "Hello? Anyone?"
        )
        await expect(aside.locator(".summary__unanswered")).to_have_text("Unanswered: 2")
        await expect(aside.locator(".summary__wait")).to_contain_text("(since last answer)")
        await expect(aside.locator(".summary__total")).to_contain_text("Waited in total:")
        # Her history: the earlier chat (transcript in a new tab) and the ticket.
        transcript = aside.get_by_role("link", name="Transcript of the chat")
        await expect(transcript).to_have_attribute(
            "href", f"{server.url}/console/chats/{scene['earlier']}/"
        )
        await expect(transcript).to_have_attribute("target", "_blank")
        await expect(aside.get_by_role("link", name=f"Ticket {scene['ticket']}")).to_be_visible()
        page = await console.request.get(f"{server.url}/console/chats/{scene['earlier']}/")
        assert page.status == 200
        assert "It ships tomorrow." in await page.text()

        # --- Bruno's pane: his own summary, no history.
        await _open(console, "Bruno Reis")
        pane = console.locator(".pane:not([hidden])")
        aside = pane.locator(".pane__aside")
        await expect(aside.locator('[data-quote="first"] .summary__quote')).to_have_text(
            "Can I change my billing address?"
        )
        await expect(aside.locator(".summary__unanswered")).to_have_text("Unanswered: 1")
        await expect(aside.locator(".summary__canned")).to_have_text(
            "Canned replies: 1 of 1 (100%)"
        )
        await expect(aside.locator(".summary__canned")).to_have_attribute("data-tone", "warning")
        await expect(aside).to_contain_text("No earlier chats or tickets with this email.")

        # --- Back to Ana: a note, added with Ctrl+Enter, is listed from the published frame.
        await _open(console, "Ana Lima")
        pane = console.locator(".pane:not([hidden])")
        aside = pane.locator(".pane__aside")
        await expect(aside.locator(".summary__unanswered")).to_have_text("Unanswered: 2")
        add_note = aside.get_by_role("button", name="Add a note")
        await add_note.click()
        note_input = aside.get_by_label("New internal note")
        await expect(note_input).to_be_focused()
        await note_input.fill(NOTE)
        await note_input.press("Control+Enter")
        await expect(aside.locator(".summary__note-body")).to_have_text(NOTE)
        await expect(aside.locator(".summary__note-meta")).to_contain_text("Marta")
        # The form closes once the note is stored; the pane keeps one textarea, the reply's.
        await expect(note_input).to_have_count(0)
        await expect(add_note).to_be_focused()
        await expect(pane.locator("textarea")).to_have_count(1)
        await expect(aside.locator(".summary__note-body b")).to_have_count(0)
        assert await db(lambda: list(ChatNote.objects.values_list("body", flat=True)))() == [NOTE]
        await console.screenshot(path=str(screenshots_dir / "console-summary.png"))

        # Marta answers: the customer gets it, and nothing of the note.
        await pane.locator(".hd-composer__input").fill("Ana, your refund is on its way.")
        await pane.locator(".hd-composer__input").press("Enter")
        await expect(customer.get_by_text("your refund is on its way")).to_be_visible()
        await expect(aside.locator(".summary__unanswered")).to_have_text("Unanswered: 0")
        await expect(aside.locator(".summary__wait")).to_contain_text("answered")
        assert "refund of order 4417" not in await customer.content()
        assert customer_frames, "the customer's socket received nothing"
        assert not [frame for frame in customer_frames if "4417 approved" in frame]
        assert "note" not in {json.loads(frame).get("type") for frame in customer_frames}

        # --- On a narrower screen the panel is a drawer: the pane's button opens it, Escape
        # puts it away.
        await console.set_viewport_size({"width": 1000, "height": 800})
        toggle = pane.get_by_role("button", name="Summary", exact=True)
        await expect(aside).to_be_hidden()
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await toggle.click()
        await expect(aside).to_be_visible()
        await expect(aside.get_by_role("button", name="Hide the summary")).to_be_focused()
        await console.keyboard.press("Escape")
        await expect(aside).to_be_hidden()
        await expect(toggle).to_be_focused()
    except BaseException:
        await pages.save_artifacts("summary-panel")
        raise
    finally:
        await close_context(agent_ctx)
        await close_context(customer_ctx)
