"""A customer the site verified (widget identity) has one record: agents see all their earlier
chats in the summary, whatever email they typed, and may open them from there."""

import pytest
from django.test import Client

from chat import blocking, selectors, services
from chat.services import Participant
from helpdesk.identity import identity_secret_create, identity_signature
from tests.factories import PASSWORD, AgentFactory, TopicFactory

pytestmark = pytest.mark.django_db


def verified_chat(topic, secret, *, email: str, external_id: str = "cust-42"):  # type: ignore[no-untyped-def]
    return blocking.chat_start_for_visitor(
        topic=topic,
        name="Ana Lima",
        email=email,
        first_message="Hello",
        external_id=external_id,
        external_id_hash=identity_signature(secret=secret.secret, external_id=external_id),
    )


def test_the_summary_lists_the_verified_customers_chats_under_any_email() -> None:
    topic, secret, agent = TopicFactory(), identity_secret_create(name="Shop"), AgentFactory()
    earlier = verified_chat(topic, secret, email="")
    services.chat_assign(chat_id=earlier.pk, agent=agent)
    services.chat_close(chat_id=earlier.pk, by=Participant.customer())
    now = verified_chat(topic, secret, email="ana.new@example.com")
    services.chat_assign(chat_id=now.pk, agent=agent)

    summary = selectors.chat_summary_frame(chat_id=now.pk, agent=agent)

    assert summary["customer"]["verified"] is True
    assert summary["customer"]["external_id"] == "cust-42"
    assert [c["id"] for c in summary["history"]["chats"]] == [earlier.pk]


def test_another_verified_customer_is_not_in_the_history() -> None:
    topic, secret, agent = TopicFactory(), identity_secret_create(name="Shop"), AgentFactory()
    verified_chat(topic, secret, email="", external_id="cust-7")
    now = verified_chat(topic, secret, email="", external_id="cust-42")
    services.chat_assign(chat_id=now.pk, agent=agent)

    summary = selectors.chat_summary_frame(chat_id=now.pk, agent=agent)

    assert summary["history"] == {"chats": [], "tickets": []}


def test_the_agent_serving_a_verified_customer_opens_their_earlier_chat() -> None:
    topic, secret = TopicFactory(), identity_secret_create(name="Shop")
    serving, stranger = AgentFactory(), AgentFactory()
    earlier = verified_chat(topic, secret, email="")
    services.chat_close(chat_id=earlier.pk, by=Participant.customer())
    now = verified_chat(topic, secret, email="")
    services.chat_assign(chat_id=now.pk, agent=serving)

    pages = {}
    for agent in (serving, stranger):
        client = Client()
        client.login(username=agent.username, password=PASSWORD)
        pages[agent] = client.get(f"/console/chats/{earlier.pk}/").status_code

    assert pages == {serving: 200, stranger: 404}
