"""/admin/live/: login required, staff supervisors only."""

import pytest
from django.test import Client

from tests.factories import AgentFactory, SupervisorFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/live/"


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={URL}"


@pytest.mark.parametrize(
    ("make_user", "status"),
    [
        (AgentFactory, 403),
        (lambda: UserFactory(is_staff=True), 403),  # admin access, but not a supervisor
        (lambda: SupervisorFactory(is_staff=False), 403),  # a supervisor without admin access
        (lambda: SupervisorFactory(is_active=False), 302),  # cannot be logged in: to the login
    ],
    ids=["agent", "staff", "supervisor-not-staff", "inactive-supervisor"],
)
def test_anyone_but_a_staff_supervisor_is_refused(client: Client, make_user, status) -> None:
    client.force_login(make_user())
    assert client.get(URL).status_code == status


def test_a_supervisor_gets_the_page_with_its_socket(client: Client) -> None:
    client.force_login(SupervisorFactory())
    response = client.get(URL)
    assert response.status_code == 200
    assert b'data-socket-path="/ws/supervise/"' in response.content
    assert b"routing/live.js" in response.content
