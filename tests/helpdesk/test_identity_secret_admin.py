"""Identity secrets in the admin: supervisors make them (the secret is made for them, never
typed) and revoke them; agents never reach them."""

import pytest
from django.test import Client

from helpdesk.models import IdentitySecret
from tests.factories import PASSWORD, AgentFactory, SupervisorFactory

pytestmark = pytest.mark.django_db

URL = "/admin/helpdesk/identitysecret/"


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_an_agent_is_refused() -> None:
    agent = logged_in(AgentFactory(is_staff=True))

    for url in (URL, f"{URL}add/"):
        response = agent.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_supervisor_makes_a_secret_they_can_read_back() -> None:
    supervisor = logged_in(SupervisorFactory())

    response = supervisor.post(
        f"{URL}add/", {"name": "Shop", "secret": "chosen-by-me"}, follow=True
    )

    assert response.status_code == 200
    made = IdentitySecret.objects.get()
    assert made.name == "Shop" and made.secret != "chosen-by-me" and len(made.secret) == 64
    assert made.secret in supervisor.get(f"{URL}{made.pk}/change/").content.decode()


def test_a_supervisor_revokes_a_secret_and_nobody_deletes_one() -> None:
    supervisor = logged_in(SupervisorFactory())
    supervisor.post(f"{URL}add/", {"name": "Shop"})
    made = IdentitySecret.objects.get()

    supervisor.post(URL, {"action": "revoke", "_selected_action": [made.pk]})

    made.refresh_from_db()
    assert made.revoked_at is not None
    assert supervisor.get(f"{URL}{made.pk}/delete/").status_code == 403


def test_html_in_a_name_is_escaped_in_the_list() -> None:
    supervisor = logged_in(SupervisorFactory())
    supervisor.post(f"{URL}add/", {"name": "<script>alert(1)</script>"})

    html = supervisor.get(URL).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
