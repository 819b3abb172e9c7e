"""Active chats where nobody wrote for HELPDESK_INACTIVITY_CLOSE_SECONDS are closed by the
system (reason `inactive`), once; the transcript follows."""

import datetime
from typing import Any

import pytest
from django.core import mail

from chat import services as chat_services
from chat.models import Chat, Message
from chat.services import Participant
from tests.helpers import active_chat
from transcripts import services, tasks
from transcripts.models import Delivery

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _limit(settings: Any) -> None:
    settings.HELPDESK_INACTIVITY_CLOSE_SECONDS = 1800


def _chat_quiet_since(when: datetime.datetime) -> Chat:
    chat = active_chat(email="ana@example.com")
    chat.customer.consent_transcript = True
    chat.customer.save()
    Message.objects.filter(chat=chat).update(created_at=when)
    Chat.objects.filter(pk=chat.pk).update(created_at=when, assigned_at=when)
    return chat


def test_a_quiet_chat_is_closed_as_inactive(django_capture_on_commit_callbacks: Any) -> None:
    chat = _chat_quiet_since(T0)

    with django_capture_on_commit_callbacks(execute=True):
        closed = services.inactivity_sweep(now=T0 + datetime.timedelta(seconds=1801))

    assert closed == [chat.pk]
    chat.refresh_from_db()
    assert chat.status == Chat.Status.CLOSED
    assert chat.close_reason == Chat.CloseReason.INACTIVE
    assert chat.closed_by == Chat.ClosedBy.SYSTEM
    assert Delivery.objects.get(chat=chat).status == Delivery.Status.SENT
    assert len(mail.outbox) == 1


def test_a_chat_within_the_limit_stays_open() -> None:
    chat = _chat_quiet_since(T0)

    assert services.inactivity_sweep(now=T0 + datetime.timedelta(seconds=1799)) == []
    chat.refresh_from_db()
    assert chat.status == Chat.Status.ACTIVE


@pytest.mark.parametrize("kind", [Message.Kind.CUSTOMER, Message.Kind.AGENT])
def test_a_recent_message_from_either_side_keeps_it_open(kind: str) -> None:
    chat = _chat_quiet_since(T0)
    recent = Message.objects.filter(chat=chat, kind=Message.Kind.CUSTOMER).first()
    assert recent is not None
    Message.objects.filter(pk=recent.pk).update(
        kind=kind, created_at=T0 + datetime.timedelta(seconds=1000)
    )

    assert services.inactivity_sweep(now=T0 + datetime.timedelta(seconds=1801)) == []


def test_system_lines_do_not_count_as_activity() -> None:
    chat = _chat_quiet_since(T0)
    Message.objects.create(
        chat=chat,
        seq=99,
        kind=Message.Kind.SYSTEM,
        body="Agent is checking",
    )
    Message.objects.filter(chat=chat, seq=99).update(
        created_at=T0 + datetime.timedelta(seconds=1700)
    )

    assert services.inactivity_sweep(now=T0 + datetime.timedelta(seconds=1801)) == [chat.pk]


def test_a_second_sweep_and_a_closed_chat_change_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    chat = _chat_quiet_since(T0)
    later = T0 + datetime.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.inactivity_sweep(now=later) == [chat.pk]
        assert services.inactivity_sweep(now=later) == []

    assert len(mail.outbox) == 1


def test_a_chat_closed_meanwhile_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    chat = _chat_quiet_since(T0)
    # The chat was listed, then its customer ended it before the sweep took the lock.
    monkeypatch.setattr(services.selectors, "inactive_chat_ids", lambda now=None: [chat.pk])
    chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())

    assert services.inactivity_sweep(now=T0 + datetime.timedelta(hours=2)) == []
    chat.refresh_from_db()
    assert chat.close_reason == ""


def test_zero_turns_it_off(settings: Any) -> None:
    settings.HELPDESK_INACTIVITY_CLOSE_SECONDS = 0
    _chat_quiet_since(T0)

    assert services.inactivity_sweep(now=T0 + datetime.timedelta(days=30)) == []


def test_the_beat_task_runs_the_sweep(settings: Any) -> None:
    chat = _chat_quiet_since(T0 - datetime.timedelta(days=1))

    assert tasks.inactivity_sweep.delay().get() == 1
    chat.refresh_from_db()
    assert chat.status == Chat.Status.CLOSED
    assert "transcripts-inactivity-sweep" in settings.CELERY_BEAT_SCHEDULE
