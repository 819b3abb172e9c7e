"""The integrators' access layer (helpdesk.api_tokens, helpdesk.api.access): who gets in with
which token, what a read token may do, and how fast."""

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chat.models import Chat
from helpdesk.api_tokens import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from helpdesk.errors import Forbidden, InvalidInput, NotFound
from helpdesk.models import ApiToken
from tests.api_support import assert_error, bearer, fresh_cache
from tests.factories import (
    AgentFactory,
    SupervisorFactory,
    UserFactory,
    api_token_for,
)
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db

LIST = "/api/v1/chats/"


def close_url(chat: Chat) -> str:
    return f"/api/v1/chats/{chat.pk}/close/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


# --- Made once, stored as a hash ---------------------------------------------------------------


def test_the_raw_token_is_returned_once_and_only_its_hash_is_stored() -> None:
    token, raw = api_token_for(AgentFactory(), name="CRM sync")
    assert raw.startswith(f"hd_{token.prefix}_")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    secret = raw.split("_", 2)[2]
    assert not any(secret in str(value) for value in stored.values())
    assert secret not in str(token)


def test_every_token_made_authenticates() -> None:
    # The prefix is cut at the token's first "_": a prefix holding one (url-safe alphabet)
    # made about one token in eight unusable.
    user = SupervisorFactory()
    raws = [api_token_for(user)[1] for _ in range(60)]
    for raw in raws:
        assert api_token_authenticate(raw).user == user
    assert all(t.prefix.isalnum() for t in ApiToken.objects.all())


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"name": ""}, InvalidInput, id="no-name"),
        pytest.param({"name": "   "}, InvalidInput, id="blank-name"),
        pytest.param({"name": "x" * 101}, InvalidInput, id="long-name"),
        pytest.param({"scope": "admin"}, InvalidInput, id="unknown-scope"),
        pytest.param({"requests_per_minute": 0}, InvalidInput, id="rate-0"),
    ],
)
def test_a_token_breaking_a_rule_is_not_made(kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        api_token_create(user=SupervisorFactory(), **{"name": "CRM", **kwargs})
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(UserFactory, id="not-staff"),
        pytest.param(lambda: AgentFactory(is_active=False), id="disabled-agent"),
    ],
)
def test_only_active_agents_and_supervisors_hold_tokens(make_user: Any) -> None:
    with pytest.raises(InvalidInput):
        api_token_create(user=make_user(), name="CRM")


def test_only_a_superuser_makes_a_superusers_token() -> None:
    root = SupervisorFactory(is_superuser=True)
    with pytest.raises(Forbidden):
        api_token_create(user=root, name="CRM", created_by=SupervisorFactory())
    token, _raw = api_token_create(
        user=root, name="CRM", created_by=SupervisorFactory(is_superuser=True)
    )
    assert token.user == root


def test_revoking_twice_keeps_the_first_time() -> None:
    token, _raw = api_token_for()
    first = api_token_revoke(token_id=token.pk).revoked_at
    assert first is not None
    assert api_token_revoke(token_id=token.pk).revoked_at == first
    with pytest.raises(NotFound):
        api_token_revoke(token_id=token.pk + 1000)


# --- Who gets in ----------------------------------------------------------------------------------


def test_no_credentials_is_401_json_naming_the_scheme() -> None:
    response = APIClient().get(LIST)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer", id="no-token"),
        pytest.param("Bearer ", id="blank-token"),
        pytest.param("Bearer hd_abc def", id="two-words"),
        pytest.param("Bearer hd_", id="prefix-only"),
        pytest.param("Bearer hd_abcdefgh", id="no-secret"),
        pytest.param("Bearer hd_abcdefgh_", id="empty-secret"),
        pytest.param("Bearer sk_live_abc", id="other-scheme-token"),
        pytest.param("Bearer hd_" + "a" * 400, id="oversize"),
        pytest.param("Bearer hd_<script>_alert(1)", id="html"),
        pytest.param("bearer hd_abcdefgh_not-a-real-secret", id="unknown"),
    ],
)
def test_a_malformed_or_unknown_token_is_401_token_invalid(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get(LIST), 401, "token_invalid")


def test_a_tampered_secret_is_401_token_invalid() -> None:
    _token, raw = api_token_for()
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert_error(bearer(tampered).get(LIST), 401, "token_invalid")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc"])
def test_another_scheme_is_401_not_authenticated(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get(LIST), 401, "not_authenticated")


def test_a_revoked_token_is_401_token_revoked() -> None:
    token, raw = api_token_for()
    assert bearer(raw).get(LIST).status_code == 200
    api_token_revoke(token_id=token.pk)
    assert_error(bearer(raw).get(LIST), 401, "token_revoked")


def test_a_revoked_token_with_a_wrong_secret_says_only_invalid() -> None:
    # Revocation is told only to whoever holds the whole token.
    token, raw = api_token_for()
    api_token_revoke(token_id=token.pk)
    assert_error(bearer(raw[:-2] + "zz").get(LIST), 401, "token_invalid")


def test_an_expired_token_is_401_token_expired() -> None:
    token, raw = api_token_for(expires_at=timezone.now() + timedelta(hours=1))
    assert bearer(raw).get(LIST).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(bearer(raw).get(LIST), 401, "token_expired")


def test_a_disabled_users_token_is_refused() -> None:
    agent = AgentFactory()
    _token, raw = api_token_for(agent)
    agent.is_active = False
    agent.save()
    body = assert_error(bearer(raw).get(LIST), 401, "token_invalid")
    assert "disabled" in body["detail"]


def test_a_token_of_someone_no_longer_staff_is_403() -> None:
    agent = AgentFactory()
    _token, raw = api_token_for(agent)
    agent.groups.clear()
    assert_error(bearer(raw).get(LIST), 403, "permission_denied")


def test_a_non_staff_session_is_403() -> None:
    client = APIClient()
    client.force_login(UserFactory())
    assert_error(client.get(LIST), 403, "permission_denied")


def test_a_staff_session_reads_and_writes_with_csrf_only() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.get(LIST).status_code == 200
    # A session is a browser's: its writes need the CSRF token, a token's never do.
    assert_error(client.post(close_url(chat)), 403, "permission_denied")
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.ACTIVE


# --- What a scope allows --------------------------------------------------------------------------


def test_a_read_token_reads_but_never_writes() -> None:
    supervisor = SupervisorFactory()
    chat = active_chat()
    client = bearer(api_token_for(supervisor, scope="read")[1])
    assert client.get(LIST).status_code == 200
    assert_error(client.post(close_url(chat)), 403, "read_only_token")
    assert_error(
        client.post(LIST, {"topic": chat.topic.slug, "name": "Ana"}, format="json"),
        403,
        "read_only_token",
    )
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.ACTIVE
    assert Chat.objects.count() == 1


def test_a_write_token_writes() -> None:
    chat = active_chat()
    client = bearer(api_token_for(SupervisorFactory(), scope="write")[1])
    assert client.post(close_url(chat)).status_code == 200
    assert Chat.objects.get(pk=chat.pk).status == Chat.Status.CLOSED


# --- How fast -------------------------------------------------------------------------------------


def test_each_token_has_its_own_rate() -> None:
    user = SupervisorFactory()
    slow = bearer(api_token_for(user, requests_per_minute=3)[1])
    other = bearer(api_token_for(user, requests_per_minute=3)[1])
    for _ in range(3):
        assert slow.get(LIST).status_code == 200
    response = slow.get(LIST)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    # Another token of the same user is counted apart.
    assert other.get(LIST).status_code == 200


def test_last_used_at_is_written_at_most_once_a_minute(
    django_assert_num_queries: Any,
) -> None:
    token, raw = api_token_for()
    client = bearer(raw)
    assert token.last_used_at is None
    client.get(LIST)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    client.get(LIST)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    with django_assert_num_queries(1):  # the lookup; nothing written within the minute
        api_token_authenticate(raw)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(seconds=61))
    with django_assert_num_queries(2):  # the lookup, then the one write
        api_token_authenticate(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first
