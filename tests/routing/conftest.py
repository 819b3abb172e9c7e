"""Fixtures for routing: agents with skills, capacity, a chosen status and open consoles."""

import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from functools import partial
from typing import Any

import pytest

from routing.models import AgentProfile, ConsoleConnection
from tests.factories import AgentFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The factories hash a password for every user; PBKDF2 costs ~0.4 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _routing_defaults(settings: Any) -> None:
    """The documented defaults, whatever the environment running the tests says."""
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.AutomaticPolicy"
    settings.HELPDESK_PRESENCE_TTL_SECONDS = 60
    settings.HELPDESK_PRESENCE_GRACE_SECONDS = 60
    # Every heartbeat sweeps, so a test sees its sweep (the throttle has its own test).
    settings.HELPDESK_PRESENCE_SWEEP_SECONDS = 0


@pytest.fixture
def committed(
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
) -> Callable[[], AbstractContextManager[Any]]:
    """`with committed(): service(...)` runs the on-commit callbacks (signals, drains)."""
    return partial(django_capture_on_commit_callbacks, execute=True)


def open_console(agent: Any, *, last_seen_at: datetime | None = None) -> ConsoleConnection:
    """A console row as presence writes it, without the signals (no drain runs)."""
    conn = ConsoleConnection.objects.create(
        agent=agent, channel_name=f"test.{agent.pk}.{uuid.uuid4().hex}"
    )
    if last_seen_at is not None:
        ConsoleConnection.objects.filter(pk=conn.pk).update(last_seen_at=last_seen_at)
    return conn


def make_agent(
    *,
    topics: Iterable[Any] = (),
    max_chats: int = 3,
    status: str = AgentProfile.Status.ONLINE,
    present: bool = True,
    last_assigned_at: datetime | None = None,
    **user_fields: Any,
) -> Any:
    """An agent with a profile (skills, limit, status) and, if present, one live console."""
    agent = AgentFactory(**user_fields)
    profile = AgentProfile.objects.create(
        user=agent, max_chats=max_chats, status=status, last_assigned_at=last_assigned_at
    )
    profile.topics.set(list(topics))
    if present:
        open_console(agent)
    return agent


def profile_of(agent: Any) -> AgentProfile:
    return AgentProfile.objects.get(user=agent)
