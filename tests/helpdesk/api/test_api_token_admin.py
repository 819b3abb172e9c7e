"""API tokens in the admin: supervisors make them (shown once) and revoke them; agents never get
there; a token is never handed out with more power than its maker has."""

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from helpdesk.api_tokens import api_token_authenticate
from helpdesk.models import ApiToken
from tests.api_support import assert_error, bearer, fresh_cache
from tests.factories import AgentFactory, SupervisorFactory, api_token_for

pytestmark = pytest.mark.django_db

ADD = "/admin/helpdesk/apitoken/"
CHANGELIST = "/admin/helpdesk/apitoken/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_form(user: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "CRM sync",
        "user": user.pk,
        "scope": "write",
        "requests_per_minute": "120",
        "expires_at_0": "",
        "expires_at_1": "",
        **overrides,
    }


def shown(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_agents_do_not_reach_the_tokens_even_as_staff() -> None:
    client = admin_client(AgentFactory(is_staff=True))
    for url in (CHANGELIST, CHANGELIST + "add/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    response = client.post(CHANGELIST + "add/", add_form(AgentFactory()))
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_a_supervisor_makes_a_token_shown_once() -> None:
    supervisor = SupervisorFactory()
    agent = AgentFactory()
    client = admin_client(supervisor)
    assert client.get(CHANGELIST + "add/").status_code == 200
    response = client.post(CHANGELIST + "add/", add_form(agent), follow=True)
    assert response.status_code == 200, response.content
    token = ApiToken.objects.get()
    assert (token.user, token.scope, token.created_by) == (agent, "write", supervisor)
    assert token.requests_per_minute == 120
    # The page after saving shows it, in a message.
    [raw] = [word for text in shown(response) for word in text.split() if word.startswith("hd_")]
    assert raw in response.content.decode()
    # Only its hash is kept, and the token shown works.
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert api_token_authenticate(raw) == token
    # It is never shown again: not in the list, not on its page.
    for url in (CHANGELIST, f"{CHANGELIST}{token.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200
        assert raw not in page.content.decode()
        assert f"hd_{token.prefix}_" in page.content.decode()


def test_a_supervisor_cannot_hand_out_a_superusers_token() -> None:
    root = SupervisorFactory(is_superuser=True)
    client = admin_client(SupervisorFactory())
    form = client.get(CHANGELIST + "add/").context["adminform"].form
    assert root not in form.fields["user"].queryset
    response = client.post(CHANGELIST + "add/", add_form(root))
    assert response.status_code == 200  # the form again, with the error
    assert "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_a_superuser_may_make_a_superusers_token() -> None:
    root = SupervisorFactory(is_superuser=True)
    response = admin_client(SupervisorFactory(is_superuser=True)).post(
        CHANGELIST + "add/", add_form(root)
    )
    assert response.status_code == 302
    assert ApiToken.objects.get().user == root


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"requests_per_minute": "0"}, "requests_per_minute", id="rate-0"),
        pytest.param({"requests_per_minute": "-5"}, "requests_per_minute", id="rate-negative"),
        pytest.param({"scope": "admin"}, "scope", id="scope"),
        pytest.param({"name": ""}, "name", id="no-name"),
        pytest.param(
            {"expires_at_0": "2001-01-01", "expires_at_1": "10:00"}, "expires_at", id="past"
        ),
    ],
)
def test_a_bad_token_form_makes_nothing(overrides: dict[str, str], field: str) -> None:
    client = admin_client(SupervisorFactory())
    response = client.post(CHANGELIST + "add/", add_form(AgentFactory(), **overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_the_rate_cannot_be_changed_to_zero() -> None:
    token, _raw = api_token_for(AgentFactory())
    client = admin_client(SupervisorFactory())
    response = client.post(
        f"{CHANGELIST}{token.pk}/change/",
        {"name": "CRM", "requests_per_minute": "0", "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 200
    assert "requests_per_minute" in response.context["adminform"].form.errors
    assert ApiToken.objects.get(pk=token.pk).requests_per_minute == 600


def test_a_supervisor_revokes_tokens_and_they_stop_working_at_once() -> None:
    kept, kept_raw = api_token_for(AgentFactory())
    gone, gone_raw = api_token_for(AgentFactory())
    client = admin_client(SupervisorFactory())
    response = client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [gone.pk]}, follow=True
    )
    assert response.status_code == 200
    assert any("1 token(s) revoked" in text for text in shown(response))
    assert ApiToken.objects.get(pk=gone.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=kept.pk).revoked_at is None
    assert_error(bearer(gone_raw).get("/api/v1/chats/"), 401, "token_revoked")
    assert bearer(kept_raw).get("/api/v1/chats/").status_code == 200


def test_tokens_are_never_deleted_and_their_state_is_shown() -> None:
    active, _ = api_token_for(AgentFactory(), name="live one")
    revoked, _ = api_token_for(AgentFactory(), name="revoked one")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    expired, _ = api_token_for(AgentFactory(), name="old one")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client = admin_client(SupervisorFactory())
    page = client.get(CHANGELIST)
    rows = {row.name: row for row in page.context["cl"].result_list}
    admin = page.context["cl"].model_admin
    assert admin.state(rows["live one"]) == "active"
    assert admin.state(rows["revoked one"]) == "revoked"
    assert admin.state(rows["old one"]) == "expired"
    assert client.get(f"{CHANGELIST}{active.pk}/delete/").status_code == 403
    assert ApiToken.objects.count() == 3
