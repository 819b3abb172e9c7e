"""A customer's rating is a `rating.received` webhook (docs/webhooks.md), again when they change
it within the edit window (`updated`), never for a refused one."""

from typing import Any

import pytest

from helpdesk.models import WebhookDelivery
from tests.factories import ClosedChatFactory, WebhookSubscriptionFactory
from tests.webhook_receiver import record_queue
from transcripts.feedback import RatingScoreInvalid, rating_submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def subscription(monkeypatch: pytest.MonkeyPatch) -> Any:
    record_queue(monkeypatch)
    return WebhookSubscriptionFactory(events=["rating.received"])


@pytest.fixture
def committed(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    return lambda: django_capture_on_commit_callbacks(execute=True)


def sent() -> list[dict[str, Any]]:
    return list(WebhookDelivery.objects.order_by("pk").values_list("payload", flat=True))


def test_a_rating_and_its_change_are_sent(committed) -> None:  # type: ignore[no-untyped-def]
    chat = ClosedChatFactory()
    with committed():
        rating = rating_submit(chat_id=chat.pk, score=2, comment="Slow <i>answer</i>")
    with committed():
        rating_submit(chat_id=chat.pk, score=4, comment="Fixed after all")

    first, second = sent()
    assert first["chat"]["id"] == chat.pk and first["chat"]["agent"]["id"] == chat.agent_id
    assert first["rating"] | {"created_at": None, "updated_at": None} == {
        "id": rating.pk,
        "score": 2,
        "comment": "Slow <i>answer</i>",
        "updated": False,
        "created_at": None,
        "updated_at": None,
    }
    assert (second["rating"]["score"], second["rating"]["updated"]) == (4, True)


def test_a_refused_rating_sends_nothing(committed) -> None:  # type: ignore[no-untyped-def]
    chat = ClosedChatFactory()
    with committed(), pytest.raises(RatingScoreInvalid):
        rating_submit(chat_id=chat.pk, score=9)
    assert sent() == []
