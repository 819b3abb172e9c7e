"""The follow-up offer: only with consent, after the delay, never twice to one address within
the quiet period nor to an unsubscribed one, sent exactly once with List-Unsubscribe headers."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from chat.models import Chat
from tests.factories import DeliveryFactory, SubscriptionFactory
from transcripts import offers, selectors, services, tasks
from transcripts.models import Delivery, Subscription

pytestmark = pytest.mark.django_db

DELAY = 3600


@pytest.fixture(autouse=True)
def _offer_settings(settings: Any) -> None:
    settings.HELPDESK_OFFER_DELAY_SECONDS = DELAY
    settings.HELPDESK_OFFER_QUIET_DAYS = 30
    settings.HELPDESK_PUBLIC_URL = "https://help.example.com/"


@pytest.fixture
def consenting_chat(closed_chat: Callable[..., Chat]) -> Callable[..., Chat]:
    """A closed chat whose customer agreed to offers (no transcript: the outbox stays empty)."""

    def make(**kwargs: Any) -> Chat:
        kwargs.setdefault("consent_marketing", True)
        kwargs.setdefault("consent_transcript", False)
        return closed_chat(**kwargs)

    return make


@pytest.fixture
def sweep(django_capture_on_commit_callbacks: Any) -> Callable[[datetime], list[int]]:
    def run(now: datetime) -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            return offers.offer_sweep(now=now)

    return run


def _due(chat: Chat) -> datetime:
    assert chat.closed_at is not None
    return chat.closed_at + timedelta(seconds=DELAY + 1)


def test_offer_is_sent_after_the_delay_with_both_links_and_headers(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat()

    created = sweep(_due(chat))

    delivery = Delivery.objects.get(chat=chat, kind=Delivery.Kind.OFFER)
    assert created == [delivery.pk]
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["Ana Lima <ana@example.com>"]
    assert sent.subject == "News and offers from Acme Help"
    assert sent.extra_headers["Message-ID"] == delivery.message_id
    unsubscribe = sent.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://help.example.com/subscriptions/unsubscribe/")
    assert unsubscribe.endswith("/>")
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = sent.alternatives[0][0]
    assert "Yes, send me news and offers" in html
    assert "https://help.example.com/subscriptions/confirm/" in html
    assert unsubscribe[1:-1] in sent.body
    # The offer only asks: nobody is subscribed before they confirm.
    assert not Subscription.objects.exists()


def test_nothing_before_the_delay(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat()

    assert sweep(_due(chat) - timedelta(seconds=5)) == []
    assert not Delivery.objects.filter(kind=Delivery.Kind.OFFER).exists()
    assert mail.outbox == []


def test_the_delay_is_read_at_call_time(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]], settings: Any
) -> None:
    chat = consenting_chat()
    settings.HELPDESK_OFFER_DELAY_SECONDS = 60
    assert chat.closed_at is not None

    assert len(sweep(chat.closed_at + timedelta(seconds=61))) == 1


def test_without_marketing_consent_no_offer(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat(consent_marketing=False, consent_transcript=True)
    mail.outbox.clear()

    assert sweep(_due(chat)) == []
    assert not Delivery.objects.filter(kind=Delivery.Kind.OFFER).exists()
    assert mail.outbox == []


def test_without_an_email_no_offer(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat(email="")
    # Consent without an address (the widget cannot send it, a hand-made row could).
    chat.customer.consent_marketing = True
    chat.customer.save()

    assert sweep(_due(chat)) == []
    assert mail.outbox == []


def test_chats_closed_before_the_lookback_are_never_offered(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat()

    assert sweep(_due(chat) + offers.OFFER_LOOKBACK) == []
    assert mail.outbox == []


def test_sweep_twice_and_task_twice_send_once(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat()
    now = _due(chat)

    sweep(now)
    assert sweep(now) == []
    delivery = Delivery.objects.get(chat=chat, kind=Delivery.Kind.OFFER)
    tasks.delivery_send.delay(delivery_id=delivery.pk)
    tasks.delivery_send.delay(delivery_id=delivery.pk)

    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_second_offer_to_the_same_address_within_the_quiet_period_is_skipped(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    first = consenting_chat()
    sweep(_due(first))
    # Another chat, the same address in other case.
    second = consenting_chat(email="ANA@Example.COM")

    sweep(_due(second))

    skipped = Delivery.objects.get(chat=second, kind=Delivery.Kind.OFFER)
    assert skipped.status == Delivery.Status.SKIPPED
    assert "within the last 30 days" in skipped.last_error
    assert len(mail.outbox) == 1


def test_after_the_quiet_period_the_address_gets_an_offer_again(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    first = consenting_chat()
    sweep(_due(first))
    second = consenting_chat()
    now = _due(second)
    Delivery.objects.filter(chat=first).update(sent_at=now - timedelta(days=31))

    sweep(now)

    assert Delivery.objects.get(chat=second, kind=Delivery.Kind.OFFER).status == "sent"
    assert len(mail.outbox) == 2


def test_two_chats_of_one_address_due_together_send_one_offer(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    first = consenting_chat()
    second = consenting_chat(email="Ana@example.com")

    sweep(max(_due(first), _due(second)))

    statuses = sorted(Delivery.objects.filter(kind="offer").values_list("status", flat=True))
    assert statuses == ["sent", "skipped"]
    assert len(mail.outbox) == 1


def test_quiet_period_counts_from_the_subscriptions_last_offer(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat()
    now = _due(chat)
    SubscriptionFactory(email="ana@example.com", status="confirmed", last_offer_at=now)

    sweep(now)

    delivery = Delivery.objects.get(chat=chat, kind=Delivery.Kind.OFFER)
    assert delivery.status == Delivery.Status.SKIPPED
    assert mail.outbox == []


def test_sending_an_offer_stamps_the_subscription(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat()
    subscription = SubscriptionFactory(email="ana@example.com", status="confirmed")

    sweep(_due(chat))

    subscription.refresh_from_db()
    delivery = Delivery.objects.get(chat=chat, kind=Delivery.Kind.OFFER)
    assert subscription.last_offer_at == delivery.sent_at


def test_an_unsubscribed_address_is_skipped(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat(email="Ana@Example.com")
    SubscriptionFactory(email="ana@example.com", status=Subscription.Status.UNSUBSCRIBED)

    sweep(_due(chat))

    delivery = Delivery.objects.get(chat=chat, kind=Delivery.Kind.OFFER)
    assert delivery.status == Delivery.Status.SKIPPED
    assert "unsubscribed" in delivery.last_error
    assert mail.outbox == []


def test_an_offer_whose_task_was_lost_is_queued_again_and_sent_once(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat()
    # The row committed but the broker lost its message: pending, nobody will send it.
    delivery = DeliveryFactory(chat=chat, kind=Delivery.Kind.OFFER)
    later = delivery.updated_at + selectors.STALE_PENDING + timedelta(seconds=1)

    services.pending_sweep(now=later)
    services.pending_sweep(now=later)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1


def test_header_injection_in_the_name_stays_out_of_the_headers(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat(name="Ana\r\nBcc: victim@example.org")

    sweep(_due(chat))

    message = mail.outbox[0].message()
    assert message["Bcc"] is None
    assert "\n" not in message["To"]


def test_a_malformed_address_is_skipped_never_sent(
    consenting_chat: Callable[..., Chat], sweep: Callable[[datetime], list[int]]
) -> None:
    chat = consenting_chat()
    chat.customer.email = "ana@example.com\r\nBcc: victim@example.org"
    chat.customer.save()

    sweep(_due(chat))

    delivery = Delivery.objects.get(chat=chat, kind=Delivery.Kind.OFFER)
    assert delivery.status == Delivery.Status.SKIPPED
    assert delivery.last_error == "not a valid email address"
    assert mail.outbox == []
