"""The admin is the supervisors' (and superusers'): agents are refused, staff or not."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, AgentFactory, SupervisorFactory, UserFactory

pytestmark = pytest.mark.django_db

# The team's setup that supervisors edit, and what they read.
CHANGELISTS = [
    "/admin/",
    "/admin/chat/chat/",
    "/admin/helpdesk/topic/",
    "/admin/helpdesk/ticket/",
    "/admin/helpdesk/article/",
    "/admin/helpdesk/customer/",
    "/admin/routing/agentprofile/",
    "/admin/cannedresponses/cannedresponse/",
    "/admin/cannedresponses/tonerule/",
    "/admin/cannedresponses/topicgreeting/",
    "/admin/transcripts/delivery/",
    "/admin/transcripts/subscription/",
    "/admin/transcripts/rating/",
]
EDITABLE = [
    "/admin/helpdesk/topic/add/",
    "/admin/routing/agentprofile/add/",
    "/admin/cannedresponses/cannedresponse/add/",
    "/admin/cannedresponses/tonerule/add/",
    "/admin/cannedresponses/topicgreeting/add/",
    "/admin/helpdesk/article/add/",
]


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_an_agent_is_sent_to_the_admin_login() -> None:
    response = logged_in(AgentFactory()).get("/admin/chat/chat/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_staff_agent_who_is_no_supervisor_is_refused() -> None:
    client = logged_in(AgentFactory(is_staff=True))
    for url in ("/admin/", "/admin/chat/chat/", "/admin/helpdesk/topic/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")
    # The login page says why instead of asking for a password they already gave.
    html = client.get("/admin/login/?next=/admin/").content.decode()
    assert "not authorized to access this page" in html


def test_staff_with_model_permissions_but_no_role_is_refused() -> None:
    from django.contrib.auth.models import Permission

    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_chat"))
    assert logged_in(user).get("/admin/chat/chat/").status_code == 302


def test_a_supervisor_who_is_not_staff_is_refused() -> None:
    response = logged_in(SupervisorFactory(is_staff=False)).get("/admin/")
    assert response.status_code == 302


@pytest.mark.parametrize("url", CHANGELISTS)
def test_a_supervisor_reads_every_changelist(url: str) -> None:
    assert logged_in(SupervisorFactory()).get(url).status_code == 200


@pytest.mark.parametrize("url", EDITABLE)
def test_a_supervisor_sets_up_the_team_without_model_permissions(url: str) -> None:
    assert logged_in(SupervisorFactory()).get(url).status_code == 200


def test_a_supervisor_edits_a_topics_business_hours_inline() -> None:
    html = logged_in(SupervisorFactory()).get("/admin/helpdesk/topic/add/").content.decode()
    assert 'name="business_hours-TOTAL_FORMS"' in html


@pytest.mark.parametrize("url", CHANGELISTS)
def test_a_superuser_keeps_the_admin(url: str) -> None:
    superuser = UserFactory(is_staff=True, is_superuser=True)
    assert logged_in(superuser).get(url).status_code == 200


def test_the_index_links_the_supervision_pages() -> None:
    html = logged_in(SupervisorFactory()).get("/admin/").content.decode()
    assert "Supervision" in html
    assert 'href="/admin/live/"' in html and 'href="/admin/metrics/"' in html
