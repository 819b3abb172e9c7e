"""The offer email's signed links: confirm (double opt-in, expires) and unsubscribe (never
expires, one-click POST without CSRF). Bad links are a 400 page and change nothing."""

import time
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from tests.factories import ClosedChatFactory, SubscriptionFactory
from transcripts import offers
from transcripts.models import Subscription

pytestmark = pytest.mark.django_db


def _confirm_path(token: str) -> str:
    return reverse("subscriptions:confirm", args=[token])


def _unsubscribe_path(token: str) -> str:
    return reverse("subscriptions:unsubscribe", args=[token])


def _old_token(make: Any, monkeypatch: pytest.MonkeyPatch, *, days: int, **kwargs: Any) -> str:
    real = time.time()
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: real - days * 86400)
        return make(**kwargs)


def test_confirm_get_shows_a_button_and_changes_nothing(client: Client) -> None:
    response = client.get(_confirm_path(offers.confirm_token(email="ana@example.com")))

    assert response.status_code == 200
    assert b"Yes, send me news and offers" in response.content
    assert not Subscription.objects.exists()


def test_confirm_post_subscribes_the_lowercased_address_once(client: Client) -> None:
    chat = ClosedChatFactory()
    path = _confirm_path(offers.confirm_token(email="Ana@Example.COM", chat_id=chat.pk))

    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 200

    subscription = Subscription.objects.get()
    assert subscription.email == "ana@example.com"
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.source_chat_id == chat.pk
    assert subscription.confirmed_at is not None


def test_confirm_moves_a_pending_subscription_to_confirmed(client: Client) -> None:
    SubscriptionFactory(email="ana@example.com", status=Subscription.Status.PENDING)

    client.post(_confirm_path(offers.confirm_token(email="ANA@example.com")))

    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED


def test_confirm_post_needs_csrf(client: Client) -> None:
    strict = Client(enforce_csrf_checks=True)
    path = _confirm_path(offers.confirm_token(email="ana@example.com"))

    assert strict.post(path).status_code == 403
    assert not Subscription.objects.exists()


def test_confirm_link_expires_after_seven_days(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _old_token(offers.confirm_token, monkeypatch, days=8, email="ana@example.com")

    response = client.post(_confirm_path(token))

    assert response.status_code == 400
    assert b"This link is not valid" in response.content
    assert not Subscription.objects.exists()


def test_unsubscribe_get_shows_a_button_and_changes_nothing(client: Client) -> None:
    SubscriptionFactory(email="ana@example.com", status=Subscription.Status.CONFIRMED)

    response = client.get(_unsubscribe_path(offers.unsubscribe_token(email="ana@example.com")))

    assert response.status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED


def test_unsubscribe_post_is_idempotent_and_case_insensitive(client: Client) -> None:
    SubscriptionFactory(email="ana@example.com", status=Subscription.Status.CONFIRMED)
    path = _unsubscribe_path(offers.unsubscribe_token(email="ANA@Example.com"))

    assert client.post(path).status_code == 200
    first = Subscription.objects.get().unsubscribed_at
    assert client.post(path).status_code == 200

    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED
    assert subscription.unsubscribed_at == first


def test_unsubscribing_an_address_that_never_subscribed_remembers_the_refusal(
    client: Client,
) -> None:
    client.post(_unsubscribe_path(offers.unsubscribe_token(email="bob@example.com")))

    assert Subscription.objects.get(email="bob@example.com").status == "unsubscribed"


def test_one_click_unsubscribe_works_without_csrf(client: Client) -> None:
    # What a mail client sends for List-Unsubscribe-Post (RFC 8058): no cookie, no token.
    strict = Client(enforce_csrf_checks=True)
    path = _unsubscribe_path(offers.unsubscribe_token(email="ana@example.com"))

    response = strict.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.UNSUBSCRIBED


def test_unsubscribe_link_never_expires(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _old_token(offers.unsubscribe_token, monkeypatch, days=400, email="ana@example.com")

    assert client.post(_unsubscribe_path(token)).status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.UNSUBSCRIBED


def test_confirm_after_unsubscribing_subscribes_again(client: Client) -> None:
    client.post(_unsubscribe_path(offers.unsubscribe_token(email="ana@example.com")))
    client.post(_confirm_path(offers.confirm_token(email="ana@example.com")))

    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.unsubscribed_at is None


def _forged_tokens() -> list[Any]:
    good = offers.unsubscribe_token(email="ana@example.com")
    value, stamp, signature = good.rsplit(":", 2)
    other = offers.unsubscribe_token(email="eve@example.com").split(":", 1)[0]
    # Fixed ids: the signed tokens carry the time, and every xdist worker must collect the
    # same test ids.
    signer = signing.TimestampSigner(salt=offers.UNSUBSCRIBE_SALT)
    return [
        pytest.param(f"{value}:{stamp}:{signature[:-2]}xx", id="altered-signature"),
        pytest.param(f"{other}:{stamp}:{signature}", id="another-address"),
        pytest.param(
            signing.TimestampSigner(salt="another").sign_object({"e": "ana@example.com"}),
            id="another-salt",
        ),
        pytest.param(signer.sign_object(["ana@example.com"]), id="not-a-dict"),
        pytest.param(signer.sign_object({"e": "not an email"}), id="not-an-email"),
        "garbage",
        ":::",
        "x" * 5000,
        "%00%0d%0a",
    ]


@pytest.mark.parametrize("token", _forged_tokens())
@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_unsubscribe_links_are_400_and_change_nothing(
    client: Client, token: str, method: str
) -> None:
    SubscriptionFactory(email="ana@example.com", status=Subscription.Status.CONFIRMED)

    response = getattr(client, method)(_unsubscribe_path(token))

    assert response.status_code == 400
    assert b"This link is not valid" in response.content
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED


def test_an_unsubscribe_token_is_no_confirm_token(client: Client) -> None:
    # One salt per purpose: a token for one page never works on the other.
    unsubscribe = offers.unsubscribe_token(email="ana@example.com")
    confirm = offers.confirm_token(email="ana@example.com")

    assert client.post(_confirm_path(unsubscribe)).status_code == 400
    assert client.post(_unsubscribe_path(confirm)).status_code == 400
    assert not Subscription.objects.exists()


def test_a_confirm_token_with_a_deleted_chat_still_confirms(client: Client) -> None:
    chat = ClosedChatFactory()
    token = offers.confirm_token(email="ana@example.com", chat_id=chat.pk)
    chat.delete()

    assert client.post(_confirm_path(token)).status_code == 200
    assert Subscription.objects.get().source_chat_id is None


def test_other_methods_are_refused(client: Client) -> None:
    path = _unsubscribe_path(offers.unsubscribe_token(email="ana@example.com"))

    assert client.put(path).status_code == 405
    assert not Subscription.objects.exists()
