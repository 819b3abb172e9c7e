"""POST /api/v1/console/canned-responses/<id>/render/: the text for the composer, use counted."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from cannedresponses.models import CannedResponseUse
from chat.models import Message
from tests.factories import AgentFactory, CannedResponseFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db


def render_url(response_id: int) -> str:
    return f"/api/v1/console/canned-responses/{response_id}/render/"


def test_render_fills_the_chat_and_the_values_and_counts_a_use(api: APIClient, agent: Any) -> None:
    chat = active_chat(agent=agent, name="Ana Lima")
    order = CannedResponseFactory(
        body="Hi {customer.first_name|there}, I'm {agent.first_name}. "
        "Order {ask:Order number} is on its way."
    )
    messages_before = Message.objects.count()

    response = api.post(
        render_url(order.pk),
        {"chat": chat.pk, "values": {"Order number": "A-1 {customer.email}"}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"text": "Hi Ana, I'm Sam. Order A-1 {customer.email} is on its way."}
    assert CannedResponseUse.objects.get(response=order, agent=agent).count == 1
    assert Message.objects.count() == messages_before  # rendering sends nothing


def test_missing_values_are_listed(api: APIClient, agent: Any) -> None:
    chat = active_chat(agent=agent)
    order = CannedResponseFactory(body="{ask:Order number} {ask:Date}")
    response = api.post(
        render_url(order.pk), {"chat": chat.pk, "values": {"Date": "today"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "values_missing",
        "detail": "This response needs values for: Order number.",
        "missing": ["Order number"],
        "errors": {"values": ["A value for “Order number” is needed."]},
    }
    assert not CannedResponseUse.objects.exists()


def test_a_chat_the_agent_may_not_read_is_not_found(api: APIClient) -> None:
    greet = CannedResponseFactory()
    theirs = active_chat(agent=AgentFactory())
    response = api.post(render_url(greet.pk), {"chat": theirs.pk}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "chat_not_found"
    assert not CannedResponseUse.objects.exists()


def test_another_topics_response_is_refused(api: APIClient, agent: Any) -> None:
    chat = active_chat(agent=agent)
    elsewhere = CannedResponseFactory(for_topic=True)
    response = api.post(render_url(elsewhere.pk), {"chat": chat.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_topic"


def test_an_inactive_response_cannot_be_rendered(api: APIClient, agent: Any) -> None:
    chat = active_chat(agent=agent)
    mine = CannedResponseFactory(personal=True, owner=agent, is_active=False)
    response = api.post(render_url(mine.pk), {"chat": chat.pk}, format="json")
    assert response.status_code == 404


def test_a_watched_chat_can_be_rendered_for_by_a_supervisor(lead_api: APIClient, lead: Any) -> None:
    chat = active_chat(agent=AgentFactory(), name="Bo Chen")
    greet = CannedResponseFactory(body="Hi {customer.first_name}")
    response = lead_api.post(render_url(greet.pk), {"chat": chat.pk}, format="json")
    assert response.json() == {"text": "Hi Bo"}
