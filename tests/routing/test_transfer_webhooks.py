"""A completed transfer is a `chat.transferred` webhook (docs/webhooks.md): to a topic's queue
at once, to a colleague when they accept (not when asked, declined or expired). The transfer's
note is internal and never sent."""

from typing import Any

import pytest

from helpdesk.models import WebhookDelivery
from routing import transfers
from tests.factories import TopicFactory, WebhookSubscriptionFactory
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat
from tests.webhook_receiver import record_queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def subscription(monkeypatch: pytest.MonkeyPatch) -> Any:
    record_queue(monkeypatch)
    return WebhookSubscriptionFactory(events=["chat.transferred"])


def sent() -> list[dict[str, Any]]:
    return list(
        WebhookDelivery.objects.filter(event="chat.transferred")
        .order_by("pk")
        .values_list("payload", flat=True)
    )


def test_a_transfer_to_a_topic_is_sent_without_its_note(committed) -> None:  # type: ignore[no-untyped-def]
    returns = TopicFactory(slug="returns", name="Returns")
    billing = TopicFactory(slug="billing", name="Billing")
    alice = make_agent(topics=[returns], username="alice", first_name="Alice", last_name="Reis")
    make_agent(topics=[billing], status="away", present=False)
    chat = held_chat(alice, topic=returns)

    with committed():
        transfer = transfers.transfer_to_topic(
            chat_id=chat.pk, sender=alice, topic_slug="billing", note=NOTE
        )

    [payload] = sent()
    alice_data = {"id": alice.pk, "username": "alice", "name": "Alice Reis"}
    assert payload["transfer"] | {"created_at": None, "completed_at": None} == {
        "id": transfer.pk,
        "kind": "topic",
        "from_agent": alice_data,
        "to_agent": None,
        "to_topic": {"id": billing.pk, "slug": "billing", "name": "Billing"},
        "requested_by": alice_data,
        "created_at": None,
        "completed_at": None,
    }
    assert payload["chat"]["id"] == chat.pk and payload["chat"]["transfer_count"] == 1
    assert payload["chat"]["topic"]["slug"] == "billing"
    assert NOTE not in str(payload)


def test_a_transfer_to_a_colleague_is_sent_when_accepted(committed) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    alice = make_agent(topics=[topic])
    bruno = make_agent(topics=[topic], username="bruno", first_name="Bruno", last_name="")
    chat = held_chat(alice, topic=topic)

    with committed():
        transfer = transfers.transfer_to_agent(
            chat_id=chat.pk, sender=alice, to_agent_id=bruno.pk, note=NOTE
        )
    assert sent() == []  # only asked so far

    with committed():
        transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)

    [payload] = sent()
    assert payload["transfer"]["kind"] == "agent"
    assert payload["transfer"]["to_agent"] == {"id": bruno.pk, "username": "bruno", "name": "Bruno"}
    assert payload["transfer"]["from_agent"]["id"] == alice.pk
    assert payload["chat"]["agent"]["id"] == bruno.pk
    assert NOTE not in str(payload)


def test_a_declined_transfer_sends_nothing(committed) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    alice = make_agent(topics=[topic])
    bruno = make_agent(topics=[topic])
    chat = held_chat(alice, topic=topic)
    with committed():
        transfer = transfers.transfer_to_agent(
            chat_id=chat.pk, sender=alice, to_agent_id=bruno.pk, note=NOTE
        )
        transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=False)
    assert sent() == []
