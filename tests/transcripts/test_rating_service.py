"""rating_submit: only a closed chat, a score 1-5 of JSON integer type, a plain-text comment of
at most 1000 characters; one rating per chat, changeable within the edit window, then locked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import events
from chat.errors import ChatNotFound
from chat.models import Chat
from tests.factories import AgentFactory, ChatFactory, ClosedChatFactory
from transcripts import feedback
from transcripts.feedback import rating_submit
from transcripts.models import Rating

pytestmark = pytest.mark.django_db


def test_a_closed_chat_is_rated_once_and_a_resubmit_updates() -> None:
    chat = ClosedChatFactory()
    first = rating_submit(chat_id=chat.pk, score=5, comment="  Quick and kind.  ")
    assert (first.score, first.comment) == (5, "Quick and kind.")

    again = rating_submit(chat_id=chat.pk, score=4, comment="")
    assert again.pk == first.pk
    assert Rating.objects.filter(chat=chat).count() == 1
    stored = Rating.objects.get(chat=chat)
    assert (stored.score, stored.comment) == (4, "")
    # The window runs from the first submission, not from the last edit.
    assert stored.created_at == first.created_at


@pytest.mark.parametrize("status", [Chat.Status.QUEUED, Chat.Status.ACTIVE])
def test_an_open_chat_cannot_be_rated(status: str) -> None:
    chat = ChatFactory(status=status, agent=AgentFactory() if status == "active" else None)
    with pytest.raises(feedback.RatingNotClosed) as err:
        rating_submit(chat_id=chat.pk, score=5)
    assert err.value.code == "not_closed"
    assert not Rating.objects.exists()


def test_no_such_chat() -> None:
    with pytest.raises(ChatNotFound):
        rating_submit(chat_id=999_999, score=5)


@pytest.mark.parametrize("score", [0, 6, -1, "5", 5.0, 4.5, True, False, None, [5], {"s": 5}])
def test_hostile_scores_are_refused(score: object) -> None:
    chat = ClosedChatFactory()
    with pytest.raises(feedback.RatingScoreInvalid) as err:
        rating_submit(chat_id=chat.pk, score=score)
    assert err.value.code == "score_invalid" and err.value.status == 400
    assert not Rating.objects.exists()


def test_comment_at_most_1000_characters() -> None:
    chat = ClosedChatFactory()
    rating_submit(chat_id=chat.pk, score=3, comment="x" * 1000)
    with pytest.raises(feedback.RatingCommentTooLong) as err:
        rating_submit(chat_id=chat.pk, score=3, comment="y" * 1001)
    assert err.value.code == "comment_too_long"
    assert Rating.objects.get(chat=chat).comment == "x" * 1000


@pytest.mark.parametrize("comment", ["bad\x00byte", "lone \ud800 surrogate", 42, ["x"]])
def test_comment_must_be_plain_text(comment: object) -> None:
    chat = ClosedChatFactory()
    with pytest.raises(feedback.RatingCommentInvalid) as err:
        rating_submit(chat_id=chat.pk, score=3, comment=comment)
    assert err.value.code == "comment_invalid"
    assert not Rating.objects.exists()


def test_html_is_stored_as_the_text_it_is() -> None:
    chat = ClosedChatFactory()
    html = '<script>alert(1)</script><b onclick="x()">hi</b> &amp;'
    rating_submit(chat_id=chat.pk, score=2, comment=html)
    assert Rating.objects.get(chat=chat).comment == html


def test_locked_after_the_edit_window(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_RATING_EDIT_SECONDS = 60
    chat = ClosedChatFactory()
    rating = rating_submit(chat_id=chat.pk, score=2)
    assert feedback.rating_editable_until(rating) == rating.created_at + timedelta(seconds=60)
    Rating.objects.filter(pk=rating.pk).update(created_at=timezone.now() - timedelta(seconds=61))
    with pytest.raises(feedback.RatingLocked) as err:
        rating_submit(chat_id=chat.pk, score=5)
    assert (err.value.code, err.value.status) == ("rating_locked", 409)
    assert Rating.objects.get(chat=chat).score == 2


def test_still_editable_just_inside_the_window(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_RATING_EDIT_SECONDS = 60
    chat = ClosedChatFactory()
    rating = rating_submit(chat_id=chat.pk, score=2)
    Rating.objects.filter(pk=rating.pk).update(created_at=timezone.now() - timedelta(seconds=50))
    assert rating_submit(chat_id=chat.pk, score=5).score == 5


def test_the_rating_frame_is_published_after_commit(  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks, monkeypatch
) -> None:
    sent: list[tuple[list[str], dict]] = []
    monkeypatch.setattr(
        "chat.events.publish_now", lambda *, groups, frame: sent.append((groups, frame))
    )
    chat = ClosedChatFactory()
    with django_capture_on_commit_callbacks(execute=True):
        rating_submit(chat_id=chat.pk, score=4, comment="ok")
    ((groups, frame),) = sent
    assert groups == [events.customer_group(chat.pk)]
    assert (frame["type"], frame["chat"], frame["score"], frame["comment"]) == (
        "rating",
        chat.pk,
        4,
        "ok",
    )
