"""The customer's rating of a chat: services (writes), selectors (reads), the customer socket's
`rate` / `rating_status` frames and the signed feedback link of the transcript email.

Kept in one module apart from the emails (transcripts/services.py): ratings share no rule with
deliveries. Wire format: docs/protocol.md, "Feedback"; the link: docs/transcripts.md.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils import timezone

from chat import events
from chat.errors import ChatNotFound
from chat.models import Chat
from chat.protocol import ProtocolError
from chat.tokens import TokenClaim, customer_key_matches
from helpdesk.errors import DomainError, InvalidInput
from transcripts import events as transcripts_events
from transcripts.models import Rating

COMMENT_MAX_LENGTH = 1000
SCORE_MIN, SCORE_MAX = 1, 5
# The link in the transcript email: signed apart from the chat token (another salt), so one can
# never stand in for the other, and it expires although the chat token does not.
FEEDBACK_SALT = "transcripts.feedback-link"
FEEDBACK_LINK_MAX_AGE = timedelta(days=30)


# --- Errors (codes listed in docs/protocol.md, "Feedback") ----------------------------------


class RatingNotClosed(DomainError):
    code = "not_closed"
    status = 409
    default_detail = "You can rate the chat once it has ended."


class RatingScoreInvalid(InvalidInput):
    code = "score_invalid"
    default_detail = "The score must be a whole number from 1 to 5."


class RatingCommentTooLong(InvalidInput):
    code = "comment_too_long"
    default_detail = f"A comment can be at most {COMMENT_MAX_LENGTH} characters long."


class RatingCommentInvalid(InvalidInput):
    code = "comment_invalid"
    default_detail = "A comment must be plain text without NUL characters."


class RatingLocked(DomainError):
    code = "rating_locked"
    status = 409
    default_detail = "This rating can no longer be changed."


# --- Services ----------------------------------------------------------------------------------


def _edit_window() -> timedelta:
    # Read at call time: tests and deployments change it without a restart of the module.
    return timedelta(seconds=settings.HELPDESK_RATING_EDIT_SECONDS)


def _clean_score(score: object) -> int:
    # `type(...) is int`: True is an int in Python and 5.0 == 5, neither is a score on our wire.
    if type(score) is not int or not SCORE_MIN <= score <= SCORE_MAX:
        raise RatingScoreInvalid()
    return score


def _clean_comment(comment: object) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise RatingCommentInvalid()
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise RatingCommentTooLong()
    if "\x00" in comment:
        raise RatingCommentInvalid()
    try:
        # A lone surrogate (possible in JSON) cannot be stored: refuse it, never a 500.
        comment.encode("utf-8")
    except UnicodeEncodeError:
        raise RatingCommentInvalid() from None
    return comment


@transaction.atomic
def rating_submit(*, chat_id: int, score: object, comment: object = "") -> Rating:
    """Rate a closed chat, or change its rating within HELPDESK_RATING_EDIT_SECONDS of the first
    submission. The comment is kept as plain text (clients render it as text, never HTML)."""
    score = _clean_score(score)
    comment = _clean_comment(comment)
    # The chat row lock serialises two first submissions (two tabs): the second one updates.
    chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
    if chat is None:
        raise ChatNotFound()
    if chat.status != Chat.Status.CLOSED:
        raise RatingNotClosed()
    rating = Rating.objects.filter(chat_id=chat_id).first()
    updated = rating is not None
    if rating is None:
        rating = Rating.objects.create(chat=chat, score=score, comment=comment)
    else:
        if timezone.now() > rating.created_at + _edit_window():
            raise RatingLocked()
        rating.score, rating.comment = score, comment
        rating.save(update_fields=["score", "comment", "updated_at"])
    # Every open tab of the customer shows the same thanks.
    events.publish_on_commit(groups=[events.customer_group(chat_id)], frame=rating_frame(rating))
    events.send_on_commit(
        transcripts_events.rating_received, chat_id=chat_id, rating_id=rating.pk, updated=updated
    )
    return rating


# --- Selectors ---------------------------------------------------------------------------------


def rating_editable_until(rating: Rating) -> datetime:
    return rating.created_at + _edit_window()


def rating_frame(rating: Rating) -> dict[str, Any]:
    return {
        "type": "rating",
        "chat": rating.chat_id,
        "score": rating.score,
        "comment": rating.comment,
        "editable_until": rating_editable_until(rating).isoformat(),
        "editable": timezone.now() <= rating_editable_until(rating),
    }


def rating_frame_for_chat(*, chat_id: int) -> dict[str, Any]:
    """The chat's `rating` frame; all of its rating fields null while it has none."""
    rating = Rating.objects.filter(chat_id=chat_id).first()
    if rating is not None:
        return rating_frame(rating)
    return {
        "type": "rating",
        "chat": chat_id,
        "score": None,
        "comment": None,
        "editable_until": None,
        "editable": None,
    }


def rating_get(*, chat_id: int) -> Rating | None:
    return Rating.objects.filter(chat_id=chat_id).first()


@dataclass(frozen=True)
class Csat:
    count: int
    average: float | None
    share_4_or_5: float | None


def csat(
    *,
    since: datetime,
    until: datetime,
    topic_id: int | None = None,
    agent_id: int | None = None,
) -> Csat:
    """Customer satisfaction of the chats closed in [since, until), in one query: how many were
    rated, the average score and the share of 4s and 5s (None for both when none was rated).

    By the chat's close time, not the rating's, so a day's figure matches the chats of that day
    in the other metrics even when customers rate later."""
    ratings = Rating.objects.filter(chat__closed_at__gte=since, chat__closed_at__lt=until)
    if topic_id is not None:
        ratings = ratings.filter(chat__topic_id=topic_id)
    if agent_id is not None:
        ratings = ratings.filter(chat__agent_id=agent_id)
    row = ratings.aggregate(
        count=Count("pk"), average=Avg("score"), good=Count("pk", filter=Q(score__gte=4))
    )
    count = row["count"]
    if not count:
        return Csat(count=0, average=None, share_4_or_5=None)
    return Csat(
        count=count, average=round(float(row["average"]), 2), share_4_or_5=row["good"] / count
    )


# --- Customer socket frames (registered for role "customer" in transcripts/apps.py) --------------


def rate_frame(*, actor: Any, chat_id: int | None, data: dict[str, Any]) -> list[dict[str, Any]]:
    """`{"type": "rate", "score": 1..5, "comment"?: "..."}` -> the `rating` frame.

    Only ever the socket's own chat: the consumer passes the token's chat (a `chat` field naming
    another one was refused before this runs)."""
    if chat_id is None:  # pragma: no cover - the customer consumer always knows its chat
        raise ProtocolError("invalid_frame", "No chat.")
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ProtocolError("invalid_frame", "'comment' must be a string.")
    rating = rating_submit(chat_id=chat_id, score=data.get("score"), comment=comment or "")
    return [rating_frame(rating)]


def rating_status_frame(
    *, actor: Any, chat_id: int | None, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """`{"type": "rating_status"}` -> the chat's `rating` frame (nulls when not rated yet), so
    a reloaded page knows whether to ask again."""
    if chat_id is None:  # pragma: no cover - the customer consumer always knows its chat
        raise ProtocolError("invalid_frame", "No chat.")
    return [rating_frame_for_chat(chat_id=chat_id)]


# --- The signed link of the transcript email ------------------------------------------------------


def feedback_token(chat: Chat) -> str:
    # The chat's customer_key is inside: rotating it (which revokes the chat token) revokes
    # the link too.
    return signing.TimestampSigner(salt=FEEDBACK_SALT).sign(f"{chat.pk}.{chat.customer_key}")


def feedback_url(chat: Chat, *, base_url: str = "") -> str:
    """The feedback page of this chat, e.g. for the transcript email: `base_url` (scheme and
    host, e.g. "https://help.example.com") + /feedback/<signed token>/. Valid for 30 days."""
    path = reverse("feedback:rate", kwargs={"token": feedback_token(chat)})
    return base_url.rstrip("/") + path


def chat_get_by_feedback_token(*, token: str) -> Chat | None:
    """The chat of an authentic, unexpired link; None for a forged, altered or old one."""
    if not isinstance(token, str) or len(token) > 300:
        return None
    try:
        value = signing.TimestampSigner(salt=FEEDBACK_SALT).unsign(
            token, max_age=FEEDBACK_LINK_MAX_AGE
        )
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    chat_id, _, key = value.partition(".")
    if not (chat_id.isascii() and chat_id.isdigit()) or not key:
        return None
    chat = Chat.objects.select_related("topic", "agent").filter(pk=int(chat_id)).first()
    claim = TokenClaim(int(chat_id), key)
    if chat is None or not customer_key_matches(claim=claim, customer_key=chat.customer_key):
        return None
    return chat
