"""The policy seam: a setting names the class, read at every call; manual assigns nothing."""

import pytest

from chat import services as chat_services
from chat.models import Chat
from chat.services import Participant
from routing import policies
from routing.models import AgentProfile
from tests.factories import TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent, open_console

pytestmark = pytest.mark.django_db


class RecordingPolicy(policies.RoutingPolicy):
    calls: list[tuple[str, int | None]] = []

    def on_chat_queued(self, *, chat_id: int) -> None:
        self.calls.append(("queued", chat_id))

    def on_slot_freed(self, *, agent_id: int) -> None:
        self.calls.append(("slot_freed", agent_id))

    def on_agent_available(self, *, agent_id: int) -> None:
        self.calls.append(("available", agent_id))


@pytest.fixture
def recording(settings) -> list[tuple[str, int | None]]:
    settings.HELPDESK_ROUTING_POLICY = f"{__name__}.RecordingPolicy"
    RecordingPolicy.calls = []
    return RecordingPolicy.calls


def test_the_policy_is_read_from_the_setting_at_call_time(settings) -> None:
    assert isinstance(policies.current_policy(), policies.AutomaticPolicy)
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"
    assert isinstance(policies.current_policy(), policies.ManualPolicy)


def test_each_trigger_reaches_its_hook(recording, committed) -> None:
    topic = TopicFactory()
    agent = make_agent(topics=[topic], status=AgentProfile.Status.AWAY)
    with committed():
        chat = start_chat(topic=topic)
    with committed():
        chat_services.chat_assign(chat_id=chat.pk, agent=agent)
        chat_services.chat_close(chat_id=chat.pk, by=Participant.agent(agent))
    with committed():
        chat_services.console_opened(agent=agent, channel_name="away-tab")  # away: not available
        from routing import services

        services.agent_status_set(agent=agent, status=AgentProfile.Status.ONLINE)
    with committed():
        chat_services.console_opened(agent=agent, channel_name="another-tab")

    assert recording == [
        ("queued", chat.pk),
        ("slot_freed", agent.pk),
        ("available", agent.pk),
        ("available", agent.pk),
    ]


def test_closing_a_chat_nobody_held_frees_no_slot(recording, committed) -> None:
    chat = start_chat()
    with committed():
        chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())
    assert recording == []


def test_the_manual_policy_assigns_nothing(settings, committed) -> None:
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"
    topic = TopicFactory()
    agent = make_agent(topics=[topic], status=AgentProfile.Status.AWAY)
    with committed():
        chat = start_chat(topic=topic)
    from routing import services

    with committed():
        services.agent_status_set(agent=agent, status=AgentProfile.Status.ONLINE)
    with committed():
        chat_services.console_opened(agent=agent, channel_name="tab")
    from routing.tasks import queue_drain

    queue_drain()  # the task body, as a worker runs it

    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.QUEUED
    # Agents take chats themselves.
    chat_services.chat_assign(chat_id=chat.pk, agent=agent, assigned_by=agent)
    assert Chat.objects.get(pk=chat.pk).agent == agent


def test_a_failing_policy_never_breaks_the_chat_service(settings, committed, caplog) -> None:
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.DoesNotExist"
    with committed():
        chat = start_chat()
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.QUEUED
    assert "routing failed after chat" in caplog.text


def test_the_beat_task_drains_with_the_automatic_policy() -> None:
    from routing.tasks import queue_drain

    topic = TopicFactory()
    agent = make_agent(topics=[topic], present=False)
    open_console(agent)
    chat = start_chat(topic=topic)  # its on-commit drain never ran (no commit in this test)

    queue_drain()  # the task body, as a worker runs it

    assert Chat.objects.get(pk=chat.pk).agent == agent


def test_the_beat_schedule_names_tasks_that_exist(settings) -> None:
    from helpdesk.celery import app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"routing.tasks.presence_sweep", "routing.tasks.queue_drain"} <= names
    assert names <= set(app.tasks)
