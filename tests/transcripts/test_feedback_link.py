"""The signed feedback link of the transcript email: the form, saving, and clear 400 pages for
forged, expired or foreign links; CSRF protected."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.test import Client

from tests.factories import ChatFactory, ClosedChatFactory, RatingFactory
from transcripts import feedback
from transcripts.models import Rating

pytestmark = pytest.mark.django_db


def test_the_link_shows_the_form_and_saves(client: Client) -> None:
    chat = ClosedChatFactory()
    url = feedback.feedback_url(chat)
    assert url.startswith("/feedback/")
    assert feedback.feedback_url(chat, base_url="https://help.example.com/").startswith(
        "https://help.example.com/feedback/"
    )
    page = client.get(url)
    assert page.status_code == 200
    assert b"How was your chat?" in page.content and b'name="score"' in page.content

    saved = client.post(url, {"score": "5", "comment": "<i>Great</i>"})
    assert saved.status_code == 200 and b"Thanks for your feedback" in saved.content
    assert Rating.objects.get(chat=chat).comment == "<i>Great</i>"
    # Editing through the same link updates the one rating.
    client.post(url, {"score": "4", "comment": ""})
    assert list(Rating.objects.values_list("score", flat=True)) == [4]
    assert b'value="4"' in client.get(url).content


@pytest.mark.parametrize(
    "token",
    ["nonsense", "1.abc:1abcde:forged", "x" * 400, "%00", "1.abc"],
)
def test_forged_links_are_a_clear_400(client: Client, token: str) -> None:
    page = client.get(f"/feedback/{token}/")
    assert page.status_code == 400 and b"not valid" in page.content
    assert client.post(f"/feedback/{token}/", {"score": "5"}).status_code == 400
    assert not Rating.objects.exists()


def test_a_link_signed_for_the_chat_token_is_not_a_feedback_link(client: Client) -> None:
    chat = ClosedChatFactory()
    other_salt = signing.TimestampSigner(salt="chat.customer-token").sign(
        f"{chat.pk}.{chat.customer_key}"
    )
    assert client.get(f"/feedback/{other_salt}/").status_code == 400


def test_a_rotated_customer_key_revokes_the_link(client: Client) -> None:
    chat = ClosedChatFactory()
    url = feedback.feedback_url(chat)
    type(chat).objects.filter(pk=chat.pk).update(customer_key="rotated")
    assert client.get(url).status_code == 400


def test_expired_after_30_days(client: Client) -> None:
    chat = ClosedChatFactory()
    url = feedback.feedback_url(chat)
    # TimestampSigner(max_age=...) compares against time.time() inside django.core.signing.
    now = time.time()
    with mock.patch("django.core.signing.time.time", return_value=now + 31 * 86400):
        assert client.get(url).status_code == 400
    with mock.patch("django.core.signing.time.time", return_value=now + 29 * 86400):
        assert client.get(url).status_code == 200
    assert timedelta(days=30) == feedback.FEEDBACK_LINK_MAX_AGE


def test_post_without_csrf_token_is_refused() -> None:
    chat = ClosedChatFactory()
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(feedback.feedback_url(chat), {"score": "5"})
    assert response.status_code == 403
    assert not Rating.objects.exists()


@pytest.mark.parametrize("score", ["0", "6", "five", "5.0", ""])
def test_bad_scores_show_the_form_again(client: Client, score: str) -> None:
    chat = ClosedChatFactory()
    page = client.post(feedback.feedback_url(chat), {"score": score})
    assert page.status_code == 400 and b"How was your chat?" in page.content
    assert not Rating.objects.exists()


def test_comment_too_long_or_nul(client: Client) -> None:
    chat = ClosedChatFactory()
    url = feedback.feedback_url(chat)
    assert client.post(url, {"score": "5", "comment": "x" * 1001}).status_code == 400
    assert client.post(url, {"score": "5", "comment": "a\x00b"}).status_code == 400
    assert not Rating.objects.exists()


def test_an_open_chat_or_a_locked_rating_is_shown_not_saved(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    open_chat = ChatFactory()
    page = client.get(feedback.feedback_url(open_chat))
    assert page.status_code == 200 and b"once it has ended" in page.content
    assert client.post(feedback.feedback_url(open_chat), {"score": "5"}).status_code == 400

    settings.HELPDESK_RATING_EDIT_SECONDS = 0
    rating = RatingFactory(score=2)
    Rating.objects.filter(pk=rating.pk).update(created_at=rating.created_at - timedelta(seconds=5))
    url = feedback.feedback_url(rating.chat)
    assert b"can no longer be changed" in client.get(url).content
    assert client.post(url, {"score": "5"}).status_code == 400
    assert Rating.objects.get(pk=rating.pk).score == 2


def test_only_get_and_post(client: Client) -> None:
    chat = ClosedChatFactory()
    assert client.put(feedback.feedback_url(chat)).status_code == 405
