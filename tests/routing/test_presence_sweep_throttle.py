"""Sockets sweep presence at most once per HELPDESK_PRESENCE_SWEEP_SECONDS per process: a
thousand consoles' heartbeats must not each scan every open chat."""

import pytest

from chat import services as chat_services
from routing import services
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sweeps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(services, "presence_sweep", lambda: calls.append(1) or [])
    monkeypatch.setattr(services, "_last_socket_sweep", float("-inf"))
    return calls


def test_heartbeats_within_the_interval_sweep_once(settings, sweeps) -> None:
    settings.HELPDESK_PRESENCE_SWEEP_SECONDS = 60
    agents = AgentFactory.create_batch(3)

    for agent in agents:
        chat_services.console_alive(agent=agent, channel_name=f"c{agent.pk}")
    chat_services.console_closed(agent=agents[0], channel_name=f"c{agents[0].pk}")

    assert len(sweeps) == 1


def test_with_no_interval_every_heartbeat_sweeps(settings, sweeps) -> None:
    settings.HELPDESK_PRESENCE_SWEEP_SECONDS = 0
    agent = AgentFactory()

    chat_services.console_alive(agent=agent, channel_name="c1")
    chat_services.console_alive(agent=agent, channel_name="c1")

    assert len(sweeps) == 2
