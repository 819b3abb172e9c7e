"""A delivery whose task never reached a worker (the broker was unreachable when the chat
closed, or lost the message) is queued again by the pending sweep and sent once; the close
itself never fails for it."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from transcripts import selectors, services, tasks
from transcripts.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.delivery_send, "delay", unreachable)


def test_a_close_while_the_broker_is_down_keeps_the_transcript_for_later(
    closed_chat: Any, broker_down: None, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    chat = closed_chat()  # raises nothing, though the task could not be queued

    delivery = Delivery.objects.get(chat=chat)
    assert chat.status == "closed"
    assert delivery.status == Delivery.Status.PENDING
    assert mail.outbox == []
    assert "broker unreachable" in caplog.text

    monkeypatch.undo()  # the broker is back
    assert services.pending_sweep(now=timezone.now()) == []  # not stale yet
    later = delivery.updated_at + selectors.STALE_PENDING + timedelta(seconds=1)
    assert services.pending_sweep(now=later) == [delivery.pk]
    assert services.pending_sweep(now=later) == []

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1


def test_a_delivery_sent_or_recently_changed_is_left_alone(closed_chat: Any) -> None:
    chat = closed_chat()
    sent = Delivery.objects.get(chat=chat)
    assert sent.status == Delivery.Status.SENT

    later = sent.updated_at + selectors.STALE_PENDING + timedelta(seconds=1)
    assert services.pending_sweep(now=later) == []
    assert len(mail.outbox) == 1
