"""The staff transcript page: a chat's conversation and internal notes, for staff who may read
the chat or are serving the same customer now (the summary's history links here)."""

import pytest
from django.test import Client

from chat import services
from chat.services import Participant
from tests.factories import PASSWORD, AgentFactory, UserFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def test_an_agent_reads_an_earlier_chat_of_the_customer_they_serve() -> None:
    agent = AgentFactory()
    earlier = active_chat(message="<b>Broken</b> lamp", email="ana@example.com")
    services.note_add(chat_id=earlier.pk, author=earlier.agent, body="Sent a new one.")
    services.chat_close(chat_id=earlier.pk, by=Participant.customer())
    active_chat(agent=agent, email="Ana@Example.com")

    response = client_for(agent).get(f"/console/chats/{earlier.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;b&gt;Broken&lt;/b&gt; lamp" in html and "<b>Broken</b>" not in html
    assert "Sent a new one." in html


def test_a_chat_of_someone_the_agent_does_not_serve_is_not_found() -> None:
    other = active_chat(email="someone@example.com")
    response = client_for(AgentFactory()).get(f"/console/chats/{other.pk}/")
    assert response.status_code == 404


def test_a_customer_without_email_links_nobody() -> None:
    agent = AgentFactory()
    earlier = start_chat(email="")
    services.chat_close(chat_id=earlier.pk, by=Participant.customer())
    active_chat(agent=agent, email="")
    assert client_for(agent).get(f"/console/chats/{earlier.pk}/").status_code == 404


def test_non_agents_are_refused_and_visitors_sent_to_log_in() -> None:
    chat = active_chat()
    assert client_for(UserFactory()).get(f"/console/chats/{chat.pk}/").status_code == 403
    response = Client().get(f"/console/chats/{chat.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_supervisor_reads_any_chat() -> None:
    from tests.factories import SupervisorFactory

    lead = AgentFactory()
    lead.groups.add(*SupervisorFactory().groups.all())
    other = active_chat(email="someone@example.com")
    services.chat_close(chat_id=other.pk, by=Participant.customer())

    assert client_for(lead).get(f"/console/chats/{other.pk}/").status_code == 200
