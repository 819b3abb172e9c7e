"""Transient SMTP failures are retried with a growing, jittered delay; every attempt is
recorded; permanent ones and the last retry mark the delivery failed."""

import random
import smtplib
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from helpdesk.mail import is_permanent_failure, retry_delay
from tests.factories import DeliveryFactory
from transcripts import tasks
from transcripts.models import Delivery

pytestmark = pytest.mark.django_db


class FlakyBackend:
    """A mail backend failing the first `failures` sends with `error`, then delivering."""

    failures = 0
    error: Exception = ConnectionRefusedError("smtp down")
    calls = 0

    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise type(self).error
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FlakyBackend]]:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    monkeypatch.setattr(FlakyBackend, "calls", 0)
    monkeypatch.setattr(FlakyBackend, "error", ConnectionRefusedError("smtp down"))
    # Propagating eager errors would surface the first Retry instead of re-applying the task;
    # eager retries run at once (the countdown is checked on its own below).
    conf = tasks.delivery_send.app.conf
    before = conf.task_eager_propagates
    conf.update(task_eager_propagates=False)
    yield FlakyBackend
    conf.update(task_eager_propagates=before)


def _run(delivery_id: int) -> bool:
    # throw=False: an eager retry re-applies the task at once instead of raising Retry.
    return bool(tasks.delivery_send.apply(kwargs={"delivery_id": delivery_id}, throw=False).get())


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    for retries, ceiling in [(0, 10), (1, 20), (2, 40), (3, 80), (6, 600), (20, 600)]:
        delays = [retry_delay(retries, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 6) for d in delays}) > 1  # jittered, not one value


def test_the_base_delay_is_read_from_settings_at_call_time(settings: Any) -> None:
    settings.HELPDESK_MAIL_RETRY_BASE_SECONDS = 1
    rng = random.Random(7)
    assert all(1 <= retry_delay(1, rng=rng) <= 2 for _ in range(20))


def test_a_transient_failure_is_retried_and_sent_once(flaky: type[FlakyBackend]) -> None:
    flaky.failures = 2
    delivery = DeliveryFactory(chat__customer__consent_transcript=True)

    assert _run(delivery.pk) is True

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 3
    assert delivery.last_error.count("failed: ConnectionRefusedError") == 2
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == delivery.message_id


def test_after_the_last_retry_the_delivery_is_failed(flaky: type[FlakyBackend]) -> None:
    flaky.failures = 100
    delivery = DeliveryFactory()

    assert _run(delivery.pk) is False

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == tasks.MAX_RETRIES + 1
    assert flaky.calls == tasks.MAX_RETRIES + 1
    assert mail.outbox == []


def test_a_permanent_refusal_is_not_retried(flaky: type[FlakyBackend]) -> None:
    flaky.failures = 100
    flaky.error = smtplib.SMTPRecipientsRefused({"ana@example.com": (550, b"no such user")})
    delivery = DeliveryFactory()

    assert _run(delivery.pk) is False

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 1
    assert flaky.calls == 1


def test_which_failures_are_permanent() -> None:
    assert is_permanent_failure(smtplib.SMTPDataError(554, b"rejected"))
    assert not is_permanent_failure(smtplib.SMTPDataError(451, b"try later"))
    assert not is_permanent_failure(smtplib.SMTPServerDisconnected("gone"))
    assert not is_permanent_failure(ConnectionRefusedError())
