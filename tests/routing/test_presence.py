"""Presence: consoles open and close in any process; an agent gone past the grace period
becomes away and their chats go back to the front of the queue, the customer told."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services as chat_services
from chat.models import Chat, ChatEvent, Message
from routing import selectors, services
from routing.models import AgentProfile, ConsoleConnection
from tests.factories import AgentFactory, TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent, open_console, profile_of

pytestmark = pytest.mark.django_db


def ago(seconds: float) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=seconds)


def backdate(agent, *, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """As if the agent chose their status and closed their last tab `seconds` ago."""
    AgentProfile.objects.filter(user=agent).update(
        status_changed_at=ago(seconds), last_disconnected_at=ago(seconds)
    )


# --- Connections ------------------------------------------------------------------------------


def test_opening_a_console_records_a_connection_and_a_profile() -> None:
    agent = AgentFactory()
    chat_services.console_opened(agent=agent, channel_name="daphne.1!abc")

    conn = ConsoleConnection.objects.get()
    assert (conn.agent, conn.channel_name) == (agent, "daphne.1!abc")
    # The profile is created with the defaults: nobody is online until they choose it.
    assert profile_of(agent).status == AgentProfile.Status.OFFLINE
    assert selectors.agent_is_present(agent_id=agent.pk)


def test_a_heartbeat_keeps_a_connection_live() -> None:
    agent = AgentFactory()
    chat_services.console_opened(agent=agent, channel_name="c1")
    ConsoleConnection.objects.update(last_seen_at=ago(59))

    chat_services.console_alive(agent=agent, channel_name="c1")

    assert ConsoleConnection.objects.get().last_seen_at > ago(5)


def test_a_heartbeat_of_a_forgotten_connection_records_it_again() -> None:
    agent = AgentFactory()
    chat_services.console_alive(agent=agent, channel_name="c1")
    assert selectors.agent_is_present(agent_id=agent.pk)


def test_closing_a_console_removes_its_connection_and_notes_when() -> None:
    agent = AgentFactory()
    chat_services.console_opened(agent=agent, channel_name="c1")
    chat_services.console_closed(agent=agent, channel_name="c1")

    assert not ConsoleConnection.objects.exists()
    assert profile_of(agent).last_disconnected_at > ago(5)
    assert not selectors.agent_is_present(agent_id=agent.pk)


def test_a_connection_not_seen_for_longer_than_the_ttl_is_not_live(settings) -> None:
    agent = AgentFactory()
    open_console(agent, last_seen_at=ago(settings.HELPDESK_PRESENCE_TTL_SECONDS + 1))
    assert not selectors.agent_is_present(agent_id=agent.pk)


# --- Several tabs are one agent ----------------------------------------------------------------


def test_closing_one_of_two_tabs_keeps_the_agent_present_and_their_chats() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], present=False)
    chat_services.console_opened(agent=agent, channel_name="tab-1")
    chat_services.console_opened(agent=agent, channel_name="tab-2")
    chat = chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)

    chat_services.console_closed(agent=agent, channel_name="tab-1")
    backdate(agent, seconds=3600)  # even long after the first tab closed

    assert services.presence_sweep() == []
    assert profile_of(agent).status == AgentProfile.Status.ONLINE
    assert Chat.objects.get(pk=chat.pk).agent == agent
    # And the remaining tab still makes them eligible for new chats.
    assert [p.user_id for p in selectors.available_agents()] == [agent.pk]


def test_two_tabs_count_once_against_capacity() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], max_chats=1)
    open_console(agent)
    for _ in range(3):
        start_chat(topic=topic)

    assert len(services.queue_drain()) == 1


# --- Grace period ------------------------------------------------------------------------------


def test_an_agent_who_closed_the_console_within_the_grace_period_keeps_everything() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], present=False)
    chat_services.console_opened(agent=agent, channel_name="c1")
    chat = chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)
    AgentProfile.objects.filter(user=agent).update(status_changed_at=ago(3600))
    chat_services.console_closed(agent=agent, channel_name="c1")

    assert services.presence_sweep() == []
    assert profile_of(agent).status == AgentProfile.Status.ONLINE
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.ACTIVE

    # Back before the grace period ends (a reload): nothing happened to them.
    chat_services.console_opened(agent=agent, channel_name="c2")
    backdate(agent, seconds=3600)
    assert services.presence_sweep() == []


def test_past_the_grace_period_the_agent_becomes_away(settings) -> None:
    agent = make_agent(present=False)
    backdate(agent, seconds=settings.HELPDESK_PRESENCE_GRACE_SECONDS + 1)

    assert services.presence_sweep() == [agent.pk]

    profile = profile_of(agent)
    assert profile.status == AgentProfile.Status.AWAY
    assert profile.status_changed_at > ago(5)
    # Once is enough: the next sweep has nothing to do.
    assert services.presence_sweep() == []


def test_the_grace_period_is_a_setting_read_at_call_time(settings) -> None:
    agent = make_agent(present=False)
    backdate(agent, seconds=30)
    assert services.presence_sweep() == []
    settings.HELPDESK_PRESENCE_GRACE_SECONDS = 10
    assert services.presence_sweep() == [agent.pk]


def test_an_agent_who_just_chose_online_without_a_console_is_given_the_grace_period() -> None:
    agent = make_agent(present=False)  # status_changed_at: now
    assert services.presence_sweep() == []
    assert profile_of(agent).status == AgentProfile.Status.ONLINE


def test_away_and_offline_agents_without_chats_are_left_alone() -> None:
    away = make_agent(status=AgentProfile.Status.AWAY, present=False)
    offline = make_agent(status=AgentProfile.Status.OFFLINE, present=False)
    backdate(away, seconds=3600)
    backdate(offline, seconds=3600)

    assert services.presence_sweep() == []
    assert profile_of(offline).status == AgentProfile.Status.OFFLINE


# --- A crashed process ---------------------------------------------------------------------------


def test_rows_left_by_a_killed_process_expire_then_the_agent_leaves(settings) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], present=False)
    AgentProfile.objects.filter(user=agent).update(status_changed_at=ago(3600))
    ttl, grace = settings.HELPDESK_PRESENCE_TTL_SECONDS, settings.HELPDESK_PRESENCE_GRACE_SECONDS
    # The process died: no disconnect ever came, the row just stopped being refreshed.
    open_console(agent, last_seen_at=ago(ttl + 1))

    # No longer live: no new chat for them...
    start_chat(topic=topic)
    assert services.queue_drain() == []
    # ...but the grace period counts from the moment the row stopped being live.
    assert services.presence_sweep() == []

    ConsoleConnection.objects.update(last_seen_at=ago(ttl + grace + 1))
    assert services.presence_sweep() == [agent.pk]
    assert profile_of(agent).status == AgentProfile.Status.AWAY
    # The dead row is forgotten once it proves nothing any more.
    assert not ConsoleConnection.objects.exists()


# --- Requeue when the agent leaves ---------------------------------------------------------------


def test_an_agent_who_left_gives_their_chats_back_to_the_front_of_the_queue(
    committed, published
) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], present=False, first_name="Bruno")
    waiting = start_chat(topic=topic)
    chats = [
        chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent) for _ in range(2)
    ]
    backdate(agent, seconds=3600)

    with committed():
        assert services.presence_sweep() == [agent.pk]

    for chat in chats:
        chat = Chat.objects.get(pk=chat.pk)
        assert (chat.status, chat.agent, chat.queue_priority) == ("queued", None, 1)
        event = ChatEvent.objects.filter(chat=chat).latest("pk")
        assert (event.kind, event.data["reason"]) == ("requeued", "agent_left")
        last = Message.objects.filter(chat=chat).latest("seq")
        assert last.kind == Message.Kind.SYSTEM
        assert last.body.startswith("Bruno had to step away.")
        # The customer's own socket hears it.
        told = published.frames("message", group=f"chat.{chat.pk}")
        assert told[-1]["body"] == last.body

    # Ahead of the chat that had been waiting all along.
    queue = list(
        Chat.objects.filter(status="queued")
        .order_by("-queue_priority", "queued_at", "pk")
        .values_list("pk", flat=True)
    )
    assert queue == [chats[0].pk, chats[1].pk, waiting.pk]


def test_an_away_agent_who_left_also_gives_their_chats_back() -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], status=AgentProfile.Status.AWAY, present=False)
    chat = chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=agent)
    backdate(agent, seconds=3600)

    assert services.presence_sweep() == [agent.pk]
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.QUEUED
    assert profile_of(agent).status == AgentProfile.Status.AWAY


def test_requeued_chats_flow_to_another_present_agent(committed) -> None:
    topic = TopicFactory()
    leaving = make_agent(topics=[topic], present=False)
    staying = make_agent(topics=[topic])
    chat = chat_services.chat_assign(chat_id=start_chat(topic=topic).pk, agent=leaving)
    backdate(leaving, seconds=3600)

    with committed():
        services.presence_sweep()

    assert Chat.objects.get(pk=chat.pk).agent == staying


def test_the_disconnect_of_the_last_tab_sweeps_others_gone_meanwhile() -> None:
    gone = make_agent(present=False)
    backdate(gone, seconds=3600)
    other = AgentFactory()
    chat_services.console_opened(agent=other, channel_name="c1")

    chat_services.console_closed(agent=other, channel_name="c1")

    assert profile_of(gone).status == AgentProfile.Status.AWAY


def test_the_heartbeat_sweeps_too() -> None:
    gone = make_agent(present=False)
    backdate(gone, seconds=3600)
    other = AgentFactory()

    chat_services.console_alive(agent=other, channel_name="c1")

    assert profile_of(gone).status == AgentProfile.Status.AWAY


def test_the_beat_task_sweeps() -> None:
    from routing.tasks import presence_sweep

    gone = make_agent(present=False)
    backdate(gone, seconds=3600)

    assert presence_sweep() == 1  # the task body, as a worker runs it
    assert profile_of(gone).status == AgentProfile.Status.AWAY
