"""Routing end to end (issue 3, 'Must show'): two agents with different topics go online in
their consoles; chats on each topic reach the right agent by themselves; an agent at capacity
gets no more (the customer sees their place in line); the agent who closes their console has
their chats put back at the front of the queue and the other eligible agent receives them with
the whole history (docs/routing.md)."""

from collections.abc import Callable

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from chat.models import Chat
from helpdesk.models import Topic
from routing.models import AgentProfile
from tests.browser.support import Pages, close_context, db, deadline
from tests.browser.test_customer_agent_journey import login, message_rows
from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=10_000)

# Presence in seconds instead of minutes: a console beats every second, a silent one counts
# as gone after 2 s, and an agent without a console for 1 s is gone (chats requeued).
FAST_PRESENCE = {
    "HELPDESK_CONSOLE_HEARTBEAT_SECONDS": "1",
    "HELPDESK_PRESENCE_TTL_SECONDS": "2",
    "HELPDESK_PRESENCE_GRACE_SECONDS": "1",
}
ONLINE_HINT = "Online — new chats are assigned to you"


def _agent(*, first_name: str, topics: tuple[Topic, ...], max_chats: int) -> object:
    agent = AgentFactory(first_name=first_name, last_name="Agent")
    profile, _ = AgentProfile.objects.get_or_create(user=agent)
    profile.max_chats = max_chats
    profile.save()
    profile.topics.set(topics)
    return agent


def _team() -> tuple[object, object]:
    returns = TopicFactory(name="Returns", slug="returns", position=1)
    billing = TopicFactory(name="Billing", slug="billing", position=2)
    # Disjoint skills first, so every automatic assignment has exactly one possible agent.
    alice = _agent(first_name="Alice", topics=(returns,), max_chats=2)
    bruno = _agent(first_name="Bruno", topics=(billing,), max_chats=3)
    return alice, bruno


def _chats_by_customer() -> dict[str, tuple[int, str, int | None]]:
    return {
        name: (pk, status, agent_id)
        for pk, name, status, agent_id in Chat.objects.values_list(
            "pk", "customer__name", "status", "agent_id"
        )
    }


def _give_returns_to(agent: object) -> None:
    AgentProfile.objects.get(user=agent).topics.add(Topic.objects.get(slug="returns"))


def _status_of(agent: object) -> str:
    return AgentProfile.objects.get(user=agent).status


async def _console_online(page: Page, base_url: str, username: str) -> None:
    await login(page, base_url, username)
    await page.get_by_role("radio", name="Online").check()
    # The hint changes when the server answered, i.e. once the profile is stored online.
    await expect(page.locator("#status-hint")).to_have_text(ONLINE_HINT)


async def _customer_starts(page: Page, base_url: str, name: str, topic: str, text: str) -> None:
    """The public customer page (the widget's content) with its pre-chat form."""
    await page.goto(f"{base_url}/chat/")
    await page.locator("#cw-name").fill(name)
    await page.locator("#cw-topic").select_option(topic)
    await page.locator("#cw-message").fill(text)
    await page.get_by_role("button", name="Start chat").click()
    await expect(page.locator(".msg--customer", has_text=text)).to_have_count(1)


async def _api_starts(context: BrowserContext, base_url: str, name: str, topic: str) -> None:
    response = await context.request.post(
        f"{base_url}/api/v1/public/chats/",
        data={"name": name, "topic": topic, "message": f"{name} here, about {topic}."},
    )
    assert response.status == 201, await response.text()


def _mine(console: Page, name: str | None = None) -> Locator:
    items = console.locator("#mine-list .chat-item")
    return items if name is None else items.filter(has_text=name)


@deadline(45)
async def test_chats_reach_the_right_agent_and_follow_an_agent_who_leaves(
    browser: Browser, live_server_factory: Callable[..., LiveServer], pages: Pages
) -> None:
    alice, bruno = await db(_team)()
    server = live_server_factory(env=FAST_PRESENCE)
    url = server.url

    alice_ctx = await browser.new_context()
    bruno_ctx = await browser.new_context()
    ana_ctx = await browser.new_context()
    duarte_ctx = await browser.new_context()
    eva_ctx = await browser.new_context()
    contexts = (alice_ctx, bruno_ctx, ana_ctx, duarte_ctx, eva_ctx)
    alice_console = await pages.new(alice_ctx)
    bruno_console = await pages.new(bruno_ctx)
    ana = await pages.new(ana_ctx)
    duarte = await pages.new(duarte_ctx)
    eva = await pages.new(eva_ctx)
    try:
        # --- Both agents open the console and choose Online.
        await _console_online(alice_console, url, alice.username)
        await _console_online(bruno_console, url, bruno.username)

        # --- A Returns chat from the customer page goes to Alice, by itself.
        await _customer_starts(ana, url, "Ana Lima", "returns", "My boots are too small.")
        await expect(ana.locator("#cw-status")).to_have_text("You are chatting with Alice")
        await expect(_mine(alice_console, "Ana Lima")).to_be_visible()

        # --- Billing (public API) goes to Bruno; a second Returns chat to Alice.
        await _api_starts(ana_ctx, url, "Carla Dias", "billing")
        await expect(_mine(bruno_console, "Carla Dias")).to_be_visible()
        await _customer_starts(duarte, url, "Duarte Reis", "returns", "Refund for a lamp?")
        await expect(duarte.locator("#cw-status")).to_have_text("You are chatting with Alice")
        await expect(_mine(alice_console, "Duarte Reis")).to_be_visible()

        # Each console holds its own topic's chats and nothing else.
        await expect(_mine(alice_console)).to_have_count(2)
        await expect(_mine(bruno_console)).to_have_count(1)
        await expect(_mine(alice_console, "Carla Dias")).to_have_count(0)
        await expect(_mine(bruno_console, "Ana Lima")).to_have_count(0)
        await expect(_mine(bruno_console, "Duarte Reis")).to_have_count(0)

        # --- Alice is at her limit of 2: a third Returns chat waits, and its customer sees
        # where they stand. Bruno is free but has no Returns skill.
        await _customer_starts(eva, url, "Eva Rocha", "returns", "Can I swap a jacket?")
        await expect(eva.locator("#cw-status")).to_have_text("Waiting for an agent…")
        await expect(eva.locator("#cw-queue")).to_be_visible()
        await expect(eva.locator("#cw-queue")).to_contain_text("You are number 1 in line")
        await expect(
            alice_console.locator("#queue-list .chat-item", has_text="Eva Rocha")
        ).to_be_visible()
        await expect(_mine(alice_console)).to_have_count(2)
        await expect(_mine(bruno_console)).to_have_count(1)

        chats = await db(_chats_by_customer)()
        assert {name: chat[1:] for name, chat in chats.items()} == {
            "Ana Lima": (Chat.Status.ACTIVE, alice.pk),
            "Duarte Reis": (Chat.Status.ACTIVE, alice.pk),
            "Carla Dias": (Chat.Status.ACTIVE, bruno.pk),
            "Eva Rocha": (Chat.Status.QUEUED, None),
        }
        ana_chat_id = chats["Ana Lima"][0]
        duarte_chat_id = chats["Duarte Reis"][0]

        # --- Alice and Ana talk, so there is a history to hand over.
        alice_pane = alice_console.locator(f'.pane[data-chat-id="{ana_chat_id}"]')
        await _mine(alice_console, "Ana Lima").locator(".chat-item__open").click()
        await alice_pane.locator("textarea").fill("Hi Ana, which size do you need?")
        await alice_pane.locator("textarea").press("Enter")
        await expect(ana.locator(".msg--agent", has_text="which size")).to_have_count(1)
        await ana.locator("#cw-input").fill("Size 39 please, order 4471.")
        await ana.locator("#cw-input").press("Enter")
        await expect(alice_pane.locator(".msg--customer", has_text="order 4471")).to_have_count(1)

        # --- Bruno learns Returns (no routing trigger: Eva keeps waiting), then Alice closes
        # her console. After the grace period her two chats go back to the FRONT of the
        # queue and reach Bruno, the only eligible agent; he then has 3 of 3, so Eva, who
        # was queued before them but behind them in line, still waits.
        await db(_give_returns_to)(bruno)
        await close_context(alice_ctx)

        away = ana.locator(".msg--system", has_text="Alice had to step away")
        await expect(away).to_have_count(1)
        await expect(away).to_contain_text("You keep your place at the front of the queue")
        await expect(ana.locator("#cw-status")).to_have_text("You are chatting with Bruno")
        # The sweep and the drain have run: the database says who holds what.
        chats = await db(_chats_by_customer)()
        assert chats["Ana Lima"][1:] == (Chat.Status.ACTIVE, bruno.pk)
        assert chats["Duarte Reis"][1:] == (Chat.Status.ACTIVE, bruno.pk)
        assert chats["Eva Rocha"][1:] == (Chat.Status.QUEUED, None)
        assert await db(_status_of)(alice) == AgentProfile.Status.AWAY

        # Every page shows the same: each frame is the latest state, never an older one.
        await expect(_mine(bruno_console, "Ana Lima")).to_be_visible()
        duarte_away = duarte.locator(".msg--system", has_text="Alice had to step away")
        await expect(duarte_away).to_have_count(1)
        await expect(duarte.locator("#cw-status")).to_have_text("You are chatting with Bruno")
        await expect(_mine(bruno_console, "Duarte Reis")).to_be_visible()
        await expect(_mine(bruno_console)).to_have_count(3)
        # A skill changed in the server reaches open consoles at once (`console.rescope`,
        # tests/routing/test_queue_visibility.py). This test changed it from its own process,
        # which shares no in-memory channel layer with the server: Bruno's console follows the
        # Returns queue once it reconnects (he is full, so that routes nothing).
        await bruno_console.reload()
        await expect(_mine(bruno_console)).to_have_count(3)
        await expect(bruno_console.locator("#queue-list .chat-item")).to_have_count(1)
        await expect(eva.locator("#cw-status")).to_have_text("Waiting for an agent…")
        await expect(eva.locator("#cw-queue")).to_contain_text("You are number 1 in line")

        # --- Bruno sees the whole conversation, exactly once and in order: Ana never has to
        # repeat herself.
        await _mine(bruno_console, "Ana Lima").locator(".chat-item__open").click()
        bruno_pane = bruno_console.locator(f'.pane[data-chat-id="{ana_chat_id}"]')
        rows = await db(message_rows)(ana_chat_id)
        bodies = [body for _seq, body in rows]
        assert "My boots are too small." in bodies
        assert "Hi Ana, which size do you need?" in bodies
        assert "Size 39 please, order 4471." in bodies
        assert any(body.startswith("Alice had to step away") for body in bodies)
        await expect(bruno_pane.locator(".msg[data-seq]")).to_have_count(len(rows))
        shown = await bruno_pane.locator(".msg[data-seq]").evaluate_all(
            "els => els.map(e => [Number(e.dataset.seq),"
            " e.querySelector('.msg__body').textContent])"
        )
        assert [tuple(item) for item in shown] == rows
        duarte_rows = await db(message_rows)(duarte_chat_id)
        assert any(body.startswith("Alice had to step away") for _seq, body in duarte_rows)

        # And the conversation goes on with Bruno.
        await bruno_pane.locator("textarea").fill("Bruno here: size 39 is on its way, Ana.")
        await bruno_pane.locator("textarea").press("Enter")
        await expect(ana.locator(".msg--agent", has_text="size 39 is on its way")).to_have_count(1)
    except BaseException:
        await pages.save_artifacts("routing-journey")
        raise
    finally:
        for context in contexts:
            await close_context(context)
