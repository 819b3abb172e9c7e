"""Staff download a chat's transcript as HTML or plain text: the customer's email's bodies (no
internal notes), as an attachment with a safe filename, for the staff who may open the staff
transcript page."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from chat import services
from chat.models import Chat
from chat.services import Participant
from helpdesk.roles import AGENTS_GROUP
from tests.factories import AgentFactory, SupervisorFactory, UserFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db

FORMATS = ["html", "txt"]


def url(chat: Chat, ext: str) -> str:
    return f"/console/chats/{chat.pk}/transcript.{ext}"


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def chat() -> Chat:
    chat = active_chat(
        name='Ana "<b>" Lima\r\nX-Evil: 1', message="<script>alert(1)</script> & my <b>lamp</b>"
    )
    services.note_add(chat_id=chat.pk, author=chat.agent, body="SECRET internal note")
    services.chat_close(chat_id=chat.pk, by=Participant.customer())
    return chat


@pytest.mark.parametrize("ext", FORMATS)
def test_the_chats_agent_downloads_it(chat: Chat, ext: str) -> None:
    response = client_for(chat.agent).get(url(chat, ext))
    assert response.status_code == 200
    assert response["Content-Type"].endswith("charset=utf-8")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("ext", FORMATS)
def test_a_supervisor_gets_what_the_staff_page_gives(chat: Chat, ext: str) -> None:
    supervisor = SupervisorFactory()
    # The console is the Agents group's: a supervisor working there is in it too.
    supervisor.groups.add(Group.objects.get_or_create(name=AGENTS_GROUP)[0])
    client = client_for(supervisor)
    page = client.get(f"/console/chats/{chat.pk}/").status_code
    assert client.get(url(chat, ext)).status_code == page


@pytest.mark.parametrize("ext", FORMATS)
def test_an_agent_serving_the_same_customer_downloads_an_earlier_chat(chat: Chat, ext: str) -> None:
    agent = AgentFactory()
    active_chat(agent=agent, email="ANA@example.com")
    assert client_for(agent).get(url(chat, ext)).status_code == 200


@pytest.mark.parametrize("ext", FORMATS)
def test_other_agents_non_agents_and_visitors_are_refused(chat: Chat, ext: str) -> None:
    assert client_for(AgentFactory()).get(url(chat, ext)).status_code == 404
    assert client_for(UserFactory()).get(url(chat, ext)).status_code == 403
    response = Client().get(url(chat, ext))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_chat_is_not_found_and_only_get_is_served(chat: Chat) -> None:
    client = client_for(chat.agent)
    assert client.get("/console/chats/999999999/transcript.html").status_code == 404
    assert client.get(f"/console/chats/{chat.pk}/transcript.pdf").status_code == 404
    assert client.post(url(chat, "html")).status_code == 405


def test_the_html_download_is_the_email_escaped_and_without_notes(chat: Chat) -> None:
    html = client_for(chat.agent).get(url(chat, "html")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; my &lt;b&gt;lamp&lt;/b&gt;" in html
    assert "<script>" not in html and "<b>lamp" not in html
    assert "SECRET" not in html
    assert "Acme Help" in html  # the email's brand: the same rendering


def test_the_text_download_is_plain_text_without_notes(chat: Chat) -> None:
    response = client_for(chat.agent).get(url(chat, "txt"))
    text = response.content.decode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "<script>alert(1)</script> & my <b>lamp</b>" in text  # text stays text
    assert "&lt;" not in text and "SECRET" not in text


@pytest.mark.parametrize("ext", FORMATS)
def test_the_filename_is_safe_whatever_the_customer_is_called(chat: Chat, ext: str) -> None:
    disposition = client_for(chat.agent).get(url(chat, ext))["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="transcript-chat-{chat.pk}-\d{{4}}-\d{{2}}-\d{{2}}\.{ext}"',
        disposition,
    )


def test_the_staff_page_links_both_downloads(chat: Chat) -> None:
    html = client_for(chat.agent).get(f"/console/chats/{chat.pk}/").content.decode()
    assert f'href="{url(chat, "html")}"' in html and f'href="{url(chat, "txt")}"' in html


def test_the_chat_admin_links_both_downloads(chat: Chat) -> None:
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    html = client_for(admin_user).get(f"/admin/chat/chat/{chat.pk}/change/")
    assert html.status_code == 200
    body = html.content.decode()
    assert f'href="{url(chat, "html")}"' in body and f'href="{url(chat, "txt")}"' in body
