"""Chat's domain events become webhook deliveries (docs/webhooks.md): chat.created,
chat.assigned, message.created and chat.closed, each with its documented payload, after commit
only, and never an internal note."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.services import Participant
from helpdesk.models import WEBHOOK_EVENT_NAMES, WebhookDelivery
from tests.factories import AgentFactory, TopicFactory, WebhookSubscriptionFactory
from tests.helpers import start_chat
from tests.webhook_receiver import record_queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _manual_routing(settings: Any) -> None:
    # Nobody assigns the chat behind the test's back.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return record_queue(monkeypatch)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def everything() -> Any:
    return WebhookSubscriptionFactory(events=sorted(WEBHOOK_EVENT_NAMES))


def sent(event: str) -> list[dict[str, Any]]:
    return [
        d.payload for d in WebhookDelivery.objects.filter(event=event).order_by("created_at", "pk")
    ]


def test_a_new_chat_is_announced_with_its_messages(everything, queued, committed) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory(slug="orders", name="Orders")
    with committed():
        chat = start_chat(topic=topic, name="Ana Lima", email="ana@example.com")

    [created] = sent("chat.created")
    assert created["chat"] == {
        "id": chat.pk,
        "status": "queued",
        "topic": {"id": topic.pk, "slug": "orders", "name": "Orders"},
        "customer": {
            "id": chat.customer_id,
            "name": "Ana Lima",
            "email": "ana@example.com",
            "external_id": "",
        },
        "agent": None,
        "created_at": chat.created_at.isoformat().replace("+00:00", "Z"),
        "assigned_at": None,
        "closed_at": None,
        "closed_by": None,
        "close_reason": None,
        "transfer_count": 0,
    }
    greeting, question = sent("message.created")
    assert greeting["message"]["kind"] == "system" and greeting["message"]["seq"] == 1
    assert question["message"] | {"id": 0, "created_at": ""} == {
        "id": 0,
        "seq": 2,
        "kind": "customer",
        "body": "Where is my parcel?",
        "author": None,
        "created_at": "",
    }
    assert len(queued) == WebhookDelivery.objects.count() == 3


def test_assignment_agent_messages_and_close(everything, queued, committed) -> None:  # type: ignore[no-untyped-def]
    bruno = AgentFactory(username="bruno", first_name="Bruno", last_name="Costa")
    chat = start_chat()
    WebhookDelivery.objects.all().delete()
    with committed():
        services.chat_assign(chat_id=chat.pk, agent=bruno)
        services.message_post(
            chat_id=chat.pk, sender=Participant.agent(bruno), body="<b>Hi</b> Ana"
        )
        services.chat_close(chat_id=chat.pk, by=Participant.agent(bruno))

    bruno_data = {"id": bruno.pk, "username": "bruno", "name": "Bruno Costa"}
    [assigned] = sent("chat.assigned")
    assert assigned["agent"] == bruno_data
    assert assigned["chat"]["agent"] == bruno_data
    joined, reply, ended = (p["message"] for p in sent("message.created"))
    assert joined["kind"] == "system" and joined["author"] is None
    assert reply["kind"] == "agent" and reply["author"] == bruno_data
    assert reply["body"] == "<b>Hi</b> Ana"  # as written: receivers render text as text
    assert ended["body"].startswith("Chat ended")
    [closed] = sent("chat.closed")
    assert closed["chat"]["status"] == "closed"
    assert closed["chat"]["closed_by"] == "agent" and closed["chat"]["close_reason"] is None
    assert closed["chat"]["closed_at"] is not None


def test_a_close_reason_is_sent(everything, queued, committed) -> None:  # type: ignore[no-untyped-def]
    chat = start_chat()
    with committed():
        services.chat_close(chat_id=chat.pk, by=Participant.system(), reason="abandoned")
    [closed] = sent("chat.closed")
    assert (closed["chat"]["closed_by"], closed["chat"]["close_reason"]) == (
        "system",
        "abandoned",
    )


def test_internal_notes_are_never_sent(everything, queued, committed) -> None:  # type: ignore[no-untyped-def]
    bruno = AgentFactory()
    chat = start_chat()
    services.chat_assign(chat_id=chat.pk, agent=bruno)
    before = WebhookDelivery.objects.count()
    with committed():
        services.note_add(chat_id=chat.pk, author=bruno, body="VIP, refund quietly")
    assert WebhookDelivery.objects.count() == before
    assert not any(
        "refund quietly" in str(p)
        for p in WebhookDelivery.objects.values_list("payload", flat=True)
    )


def test_a_requeued_chat_is_not_a_new_chat(everything, queued, committed) -> None:  # type: ignore[no-untyped-def]
    chat = start_chat()
    services.chat_assign(chat_id=chat.pk, agent=AgentFactory())
    WebhookDelivery.objects.all().delete()
    with committed():
        services.chat_requeue(chat_id=chat.pk, reason="agent_left")
    assert sent("chat.created") == []
    assert [p["message"]["kind"] for p in sent("message.created")] == ["system"]


def test_only_the_events_a_subscription_asked_for(queued, committed) -> None:  # type: ignore[no-untyped-def]
    closes = WebhookSubscriptionFactory(events=["chat.closed"])
    WebhookSubscriptionFactory(events=["chat.closed"], is_active=False)
    with committed():
        chat = start_chat()
        services.chat_close(chat_id=chat.pk, by=Participant.customer())
    assert list(WebhookDelivery.objects.values_list("subscription", "event")) == [
        (closes.pk, "chat.closed")
    ]


def test_nothing_is_stored_before_commit_or_after_a_rollback(everything, queued) -> None:  # type: ignore[no-untyped-def]
    # No commit in this test (its transaction is rolled back at the end): the after-commit
    # signals never fire, so no delivery is ever made for these changes.
    chat = start_chat()
    services.chat_close(chat_id=chat.pk, by=Participant.customer())
    assert not WebhookDelivery.objects.exists() and queued == []


def test_a_failing_webhook_never_breaks_the_chat(
    everything, queued, committed, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("webhooks are down")

    monkeypatch.setattr("helpdesk.webhooks.emit", broken)
    with committed():
        chat = start_chat()
        services.chat_close(chat_id=chat.pk, by=Participant.customer())
    chat.refresh_from_db()
    assert chat.status == "closed"


def test_a_message_costs_the_same_queries_whatever_the_subscriptions(queued, committed) -> None:  # type: ignore[no-untyped-def]
    bruno = AgentFactory()
    chat = start_chat()
    services.chat_assign(chat_id=chat.pk, agent=bruno)

    def post_queries() -> int:
        with CaptureQueriesContext(connection) as ctx, committed():
            services.message_post(chat_id=chat.pk, sender=Participant.agent(bruno), body="Hi")
        return len(ctx.captured_queries)

    nobody = post_queries()
    WebhookSubscriptionFactory(events=["message.created"])
    one = post_queries()
    WebhookSubscriptionFactory.create_batch(9, events=["message.created"])
    ten = post_queries()
    assert one == ten
    # Listening costs the payload's one query and the deliveries' insert (and a savepoint).
    assert one - nobody <= 4, (nobody, one)
