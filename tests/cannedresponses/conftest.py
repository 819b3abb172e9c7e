"""Fixtures for every canned-responses test."""

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from cannedresponses import selectors, tone
from tests.factories import AgentFactory, ConsoleSupervisorFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The factories hash a password for every user; PBKDF2 costs ~0.4 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rolled-back tests commit nothing, so the tone pattern would never be invalidated and
    ids are reused: start each test with no compiled rules and no learned phrases."""
    tone.invalidate()
    monkeypatch.setattr(selectors, "PHRASES_CACHE_SECONDS", 0)
    yield
    tone.invalidate()


@pytest.fixture(autouse=True)
def _no_throttle(settings: Any) -> None:
    # The throttling test sets its own rate; others must not depend on earlier requests.
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "console_assist": None}
    settings.REST_FRAMEWORK = rest


@pytest.fixture
def agent(db: None) -> Any:
    return AgentFactory(first_name="Sam")


@pytest.fixture
def lead(db: None) -> Any:
    """A supervisor with a console."""
    return ConsoleSupervisorFactory(first_name="Maria")


def client_for(user: Any, *, csrf: bool = False) -> APIClient:
    client = APIClient(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def api(agent: Any) -> APIClient:
    """The agent's console session."""
    return client_for(agent)


@pytest.fixture
def lead_api(lead: Any) -> APIClient:
    return client_for(lead)
