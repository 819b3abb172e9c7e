"""The answer bot's traces in chat's webhooks (docs/webhooks.md): a bot message is a
`message.created` of kind `bot` with no author and the same keys as every other message (its
structured `data` stays on the websocket), and a chat its customer ended after a helpful
automated answer is a `chat.closed` with `close_reason` `resolved_by_bot`."""

from typing import Any

import pytest

from chat import services
from chat.models import Chat, Message
from chat.services import Participant
from helpdesk.models import WebhookDelivery
from tests.factories import WebhookSubscriptionFactory
from tests.helpers import start_chat
from tests.webhook_receiver import DOC, record_queue

pytestmark = pytest.mark.django_db

ARTICLES = {
    "question": "How do I return my parcel?",
    "articles": [
        {
            "id": 7,
            "title": "How to <b>return</b> an item",
            "url": "https://help.example.com/help/return-an-item/",
            "excerpt": "Print the return label…",
        }
    ],
}


@pytest.fixture(autouse=True)
def _manual_routing(settings: Any) -> None:
    # The chat stays queued, where the bot speaks.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"


@pytest.fixture(autouse=True)
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return record_queue(monkeypatch)


def sent(event: str) -> list[dict[str, Any]]:
    return [
        d.payload for d in WebhookDelivery.objects.filter(event=event).order_by("created_at", "pk")
    ]


def test_a_bot_message_is_a_message_without_author_and_without_extra_keys(
    django_capture_on_commit_callbacks: Any,
) -> None:
    WebhookSubscriptionFactory(events=["message.created"])
    with django_capture_on_commit_callbacks(execute=True):
        chat = start_chat()
    [*_, question] = sent("message.created")
    assert question["message"]["kind"] == "customer"
    WebhookDelivery.objects.all().delete()

    body = "While you wait, this article may answer your question:\n\n• How to <b>return</b>"
    with django_capture_on_commit_callbacks(execute=True):
        message = services.bot_message_post(chat_id=chat.pk, body=body, data=ARTICLES)

    [payload] = sent("message.created")
    assert payload["chat"]["status"] == "queued"
    assert payload["message"] == {
        "id": message.pk,
        "seq": message.seq,
        "kind": "bot",
        "body": body,  # as written: receivers render text as text
        "author": None,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
    }
    # Stable: the same keys as any other kind of message.
    assert payload["message"].keys() == question["message"].keys()


def test_a_chat_resolved_by_the_bot_closes_with_that_reason(
    django_capture_on_commit_callbacks: Any,
) -> None:
    WebhookSubscriptionFactory(events=["chat.closed"])
    chat = start_chat()
    with django_capture_on_commit_callbacks(execute=True):
        services.chat_close(
            chat_id=chat.pk, by=Participant.customer(), reason=Chat.CloseReason.RESOLVED_BY_BOT
        )

    [closed] = sent("chat.closed")
    assert closed["chat"]["status"] == "closed"
    assert (closed["chat"]["closed_by"], closed["chat"]["close_reason"]) == (
        "customer",
        "resolved_by_bot",
    )
    assert closed["chat"]["agent"] is None and closed["chat"]["assigned_at"] is None


def test_the_doc_lists_every_message_kind_and_close_reason() -> None:
    # docs/webhooks.md is what integrators code against: a kind or a reason added to the
    # models must be added there too.
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `message.created` | `{") or line.startswith("| `chat.closed` | `{")
    }
    assert all(f'"{kind}"' in rows["message.created"] for kind in Message.Kind.values)
    assert all(f"`{reason}`" in rows["chat.closed"] for reason in Chat.CloseReason.values)
