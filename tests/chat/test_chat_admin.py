"""Supervisors read chats in the admin (with their transcript links); nobody edits, adds or
deletes one there: every change goes through chat.services."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, AgentFactory, SupervisorFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def test_a_supervisor_reads_chats_and_cannot_change_them() -> None:
    chat = active_chat(message="<script>alert(1)</script>")
    client = admin_client(SupervisorFactory())

    listing = client.get("/admin/chat/chat/")
    page = client.get(f"/admin/chat/chat/{chat.pk}/change/")

    assert listing.status_code == 200
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/console/chats/{chat.pk}/transcript.html" in html
    assert "<script>alert(1)</script>" not in html
    assert 'name="_save"' not in html
    assert client.post(f"/admin/chat/chat/{chat.pk}/delete/").status_code == 403
    assert client.get("/admin/chat/chat/add/").status_code == 403


def test_an_agent_who_is_not_staff_never_reaches_the_admin() -> None:
    response = admin_client(AgentFactory()).get("/admin/chat/chat/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
