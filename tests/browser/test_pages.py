"""The page shells the browser tests drive, checked without a browser (fast, run everywhere)."""

import json

import pytest
from django.http import HttpResponse
from django.test import Client
from pytest_django.fixtures import Settings

from tests.factories import PASSWORD, AgentFactory, SupervisorFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_links_to_every_part_of_the_product(client: Client) -> None:
    html = client.get("/").content.decode()
    for href in ('href="/chat/"', 'href="/widget-demo/"', 'href="/console/"', 'href="/admin/"'):
        assert href in html
    assert 'href="/api/docs/"' in html


def test_customer_page_lists_active_topics_and_may_be_framed_by_widget_sites(
    client: Client, settings: Settings
) -> None:
    settings.HELPDESK_WIDGET_ORIGINS = ["https://shop.example"]
    TopicFactory(name="Returns", slug="returns")
    TopicFactory(name="Old", slug="old", is_active=False)
    response = client.get("/chat/?embed=1")
    html = response.content.decode()
    assert response["Content-Security-Policy"] == "frame-ancestors 'self' https://shop.example"
    assert "X-Frame-Options" not in response
    assert 'value="returns"' in html and 'value="old"' not in html
    assert "cw--embed" in html and "hd-navbar" not in html
    assert "cw--embed" not in client.get("/chat/").content.decode()


def test_customer_page_without_topics_says_chat_is_unavailable(client: Client) -> None:
    html = client.get("/chat/").content.decode()
    assert "Chat is not available right now" in html
    assert 'id="cw-form"' not in html


def test_widget_demo_includes_the_widget_with_one_script_tag(client: Client) -> None:
    html = client.get("/widget-demo/").content.decode()
    assert html.count('<script src="/static/chat/widget.js" defer></script>') == 1


def test_console_sends_anonymous_visitors_to_log_in(client: Client) -> None:
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/"
    assert client.get(response["Location"]).status_code == 200


def test_console_refuses_logged_in_non_agents(client: Client) -> None:
    user = UserFactory()
    client.login(username=user.username, password=PASSWORD)
    assert client.get("/console/").status_code == 403


def test_console_tells_its_script_who_the_agent_is(client: Client) -> None:
    agent = AgentFactory(first_name="Marta")
    client.login(username=agent.username, password=PASSWORD)
    response = client.get("/console/")
    assert response.status_code == 200
    config = json.loads(_json_script(response))
    assert config == {
        "agent": {"id": agent.pk, "name": "Marta", "is_supervisor": False},
        "login_url": "/accounts/login/?next=%2Fconsole%2F",
    }


def test_console_tells_its_script_the_agent_supervises(client: Client) -> None:
    lead = AgentFactory(first_name="Maria")
    lead.groups.add(*SupervisorFactory().groups.all())
    client.login(username=lead.username, password=PASSWORD)
    config = json.loads(_json_script(client.get("/console/")))
    assert config["agent"] == {"id": lead.pk, "name": "Maria", "is_supervisor": True}


def _json_script(response: HttpResponse) -> str:
    html = response.content.decode()
    start = html.index('<script id="console-config" type="application/json">')
    start = html.index(">", start) + 1
    return html[start : html.index("</script>", start)]
