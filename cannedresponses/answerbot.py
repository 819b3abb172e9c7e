"""The answer bot (docs/knowledge-base.md, "Answer bot"): while a chat waits in the queue, it
offers knowledge base articles that match the customer's question, and steps aside for good
the moment an agent takes the chat or the customer asks for a person.

Why here (floor 3): the bot reads chats (floor 2) and articles (floor 1); chat knows nothing
of it. It hears customer messages through chat's `message_posted` signal (after commit) and
answers in a Celery task, so nothing on the assignment path ever waits for it; its own frames
(`bot_status`, `bot_feedback`, `human`) are registered with chat's dispatcher.

Every decision to speak is taken under the chat's row lock (`chat.services.lock_chat`), the
same lock every assignment takes: an agent who takes the chat while the bot is still matching
makes the bot's answer a no-op.
"""

import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from cannedresponses.errors import BotAnswerNotFound, BotFeedbackGiven, BotNotQueued
from cannedresponses.models import BotAnswer, BotAnswerArticle, BotChat
from chat import events
from chat import services as chat_services
from chat.errors import ChatClosed, ChatNotFound
from chat.models import Chat, Message
from helpdesk.articles import article_renderings
from helpdesk.models import Article
from helpdesk.selectors import ARTICLE_SEARCH_CONFIG, article_list_published

logger = logging.getLogger(__name__)

# A chat gets at most this many automated answers: past them the customer is better served by
# waiting for the person they are queued for than by more articles.
MAX_ANSWERS_PER_CHAT = 5
# Keywords taken from a question: the first ones carry it, and each is one more expression
# per article for the database.
MAX_KEYWORDS = 10
# Characters of a message read for keywords (a message may hold 4000).
QUESTION_READ_LENGTH = 1000
# Longer runs of letters are no word (a pasted token, a key mashed): never a keyword.
KEYWORD_MAX_LENGTH = 40
# Articles the database ranks before the match share is checked (PostgreSQL).
CANDIDATES = 10
# The question stored with an answer (its first characters: it names what was answered).
QUESTION_STORED_LENGTH = 200

_WORD = re.compile(r"\w+")
# A lexeme in PostgreSQL's text form of a tsvector or tsquery: 'word' (quotes doubled inside).
_LEXEME = re.compile(r"'((?:[^']|'')+)'")

# Words that say nothing about what the customer needs: they never decide a match. English,
# like the knowledge base's search configuration.
_STOP_WORDS = """
    a about above after again against all also am an and any anyone anything are as at be
    because been before being below between both but by can cannot could dear did do does
    doing done down during each else even ever few for from further get gets getting got had
    has have having he hello help her here hers herself hey hi him himself his how i if im in
    into is it its itself ive just know like me more most much must my myself need needs no
    nor not now of off ok okay on once only or other our ours ourselves out over own please
    same shall she should so some someone something still such than thank thanks that the
    their theirs them themselves then there these they this those through thx to too under
    until up us very want wants was we were what when where which while who whom whose why
    will with would yes yet you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


# --- Matching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleMatch:
    article: Article
    # Share of the question's keywords the article holds (title, tags or body), 0..1.
    share: float


def question_keywords(text: str) -> list[str]:
    """The words of a question that can tell articles apart: case-folded, in order, without
    repeats, common words, numbers (order numbers match no article) and runs too long to be
    words, at most MAX_KEYWORDS."""
    words = (word.casefold() for word in _WORD.findall(text[:QUESTION_READ_LENGTH]))
    keywords = dict.fromkeys(
        word
        for word in words
        if 1 < len(word) <= KEYWORD_MAX_LENGTH and not word.isdigit() and word not in STOP_WORDS
    )
    return list(keywords)[:MAX_KEYWORDS]


def match_articles(
    *,
    question: str,
    topic_slug: str | None = None,
    limit: int = 2,
    min_match: int = 50,
    exclude_ids: frozenset[int] | set[int] = frozenset(),
) -> list[ArticleMatch]:
    """The published articles that best answer `question`, at most `limit`; one query.

    An article is offered only if it holds at least `min_match` percent of the question's
    keywords (any of them, in title, tags or body: a question is not a search box, and "where
    is my refund for the shoes" should find the refunds article). Best first: the larger
    share, then the chat's topic, then PostgreSQL's full-text rank (title over tags over
    body) or, elsewhere, keywords in the title.
    """
    keywords = question_keywords(question)
    if not keywords or limit < 1:
        return []
    articles = article_list_published().annotate(
        topic_first=(
            Case(When(topic__slug=topic_slug, then=Value(1)), default=Value(0))
            if topic_slug
            else Value(0)
        )
    )
    if exclude_ids:
        articles = articles.exclude(pk__in=exclude_ids)
    if connection.vendor == "postgresql":
        matches = _match_postgres(articles, keywords)
    else:
        matches = _match_fallback(articles, keywords)
    wanted = [m for m in matches if m.share * 100 >= min_match]
    # Stable: within one share and topic, the database's rank order stays.
    wanted.sort(key=lambda m: (-m.share, -m.article.topic_first))  # type: ignore[attr-defined]
    return wanted[:limit]


def _lexemes(text: str | None) -> set[str]:
    return {lexeme.replace("''", "'") for lexeme in _LEXEME.findall(text or "")}


def _match_postgres(articles: Any, keywords: list[str]) -> list[ArticleMatch]:
    """Full-text search with any of the keywords ("or"), ranked by PostgreSQL; the share is
    counted on PostgreSQL's own lexemes (stemmed: "refunds" holds "refund"), read from the
    document of each of the few candidates, so no per-keyword expression runs per article."""
    config = ARTICLE_SEARCH_CONFIG
    vector = (
        SearchVector("title", weight="A", config=config)
        + SearchVector("tags", weight="B", config=config)
        + SearchVector("body", weight="C", config=config)
    )
    # Keywords are runs of letters and digits: no operator of the web syntax can hide there.
    search = SearchQuery(" or ".join(keywords), search_type="websearch", config=config)
    rows = list(
        articles.annotate(
            document=vector,
            rank=SearchRank(vector, search),
            asked=Cast(search, output_field=TextField()),
        )
        .filter(document=search)
        .order_by("-rank", "title")[:CANDIDATES]
    )
    matches = []
    for article in rows:
        asked = _lexemes(article.asked)
        if not asked:
            continue
        share = len(asked & _lexemes(str(article.document))) / len(asked)
        matches.append(ArticleMatch(article=article, share=share))
    return matches


def _match_fallback(articles: Any, keywords: list[str]) -> list[ArticleMatch]:
    """Elsewhere (SQLite): a keyword counts when the title, the tags or the body contains it
    (case-insensitive for ASCII on SQLite); articles with none are left out."""

    def count(*fields: str) -> Any:
        cases = []
        for word in keywords:
            found = Q()
            for field in fields:
                found |= Q(**{f"{field}__icontains": word})
            cases.append(Case(When(found, then=Value(1)), default=Value(0)))
        return sum(cases[1:], cases[0])

    rows = (
        articles.annotate(
            hits=Cast(count("title", "tags", "body"), IntegerField()),
            title_hits=Cast(count("title"), IntegerField()),
        )
        .filter(hits__gte=1)
        .order_by("-hits", "-topic_first", "-title_hits", "title")[:CANDIDATES]
    )
    return [ArticleMatch(article=a, share=a.hits / len(keywords)) for a in rows]


# --- What the bot says ----------------------------------------------------------------------------


def article_url(article: Article) -> str:
    """The public page, absolute: a worker has no request to take the host from."""
    path = reverse("help:article", kwargs={"slug": article.slug})
    return settings.HELPDESK_PUBLIC_URL.rstrip("/") + path


def answer_text(offered: list[dict[str, Any]]) -> str:
    """The message body: plain text that reads well on its own (transcripts, webhooks, clients
    that do not know `bot` messages, which turn the URLs into links)."""
    lead = (
        "While you wait, this article may answer your question:"
        if len(offered) == 1
        else "While you wait, these articles may answer your question:"
    )
    lines = [f"• {item['title']}: {item['url']}" for item in offered]
    ask = "Did this answer your question? If not, an agent will be with you shortly."
    return "\n".join([lead, "", *lines, "", ask])


def _offered(matches: list[ArticleMatch]) -> list[dict[str, Any]]:
    renderings = article_renderings([m.article for m in matches])
    return [
        {
            "id": m.article.pk,
            "title": m.article.title,
            "url": article_url(m.article),
            # Plain text (helpdesk.articles): clients put it in the page as text.
            "excerpt": renderings[m.article.pk]["excerpt"],
        }
        for m in matches
    ]


# --- When the bot may speak ---------------------------------------------------------------------


def _human_requested(chat_id: int) -> bool:
    return BotChat.objects.filter(chat_id=chat_id, human_requested_at__isnull=False).exists()


def bot_may_answer(chat: Chat) -> bool:
    """Queued and never taken by an agent (a requeued chat keeps `assigned_at`: once an agent
    had it, the bot stays quiet), and the customer did not ask for a person."""
    return (
        chat.status == Chat.Status.QUEUED
        and chat.assigned_at is None
        and not _human_requested(chat.pk)
    )


def bot_answer_wanted(*, message_id: int) -> bool:
    """Is this message a question the bot might answer? One query, on the message_posted path
    of every message, so that no task is queued for the rest."""
    return Message.objects.filter(
        pk=message_id,
        kind=Message.Kind.CUSTOMER,
        chat__status=Chat.Status.QUEUED,
        chat__assigned_at__isnull=True,
        chat__topic__bot_setting__is_enabled=True,
    ).exists()


def bot_answer_later(*, message_id: int) -> None:
    """Queue the answer to a customer message, after commit (the bot's task)."""
    if bot_answer_wanted(message_id=message_id):
        transaction.on_commit(partial(_queue_answer, message_id=message_id))


def _queue_answer(*, message_id: int) -> None:
    """Hand the question to Celery. Whatever goes wrong (a broker down; with eager tasks, the
    bot itself) is logged here: the customer's message is stored and routing went on."""
    from cannedresponses import tasks  # tasks imports this module

    try:
        tasks.bot_answer.delay(message_id=message_id)
    except Exception:
        logger.exception("the answer bot could not answer message %s", message_id)


def bot_answer_question(*, message_id: int) -> Message | None:
    """Answer one customer message of a queued chat with the best one or two articles, or say
    nothing (no match above the topic's share, the bot is off or stepped aside, the chat
    already got MAX_ANSWERS_PER_CHAT answers). Idempotent: one answer per question.

    The matching runs before any lock; only the append holds the chat's lock.
    """
    question = (
        Message.objects.select_related("chat__topic__bot_setting")
        .filter(pk=message_id, kind=Message.Kind.CUSTOMER)
        .first()
    )
    if question is None:
        return None
    chat = question.chat
    setting = getattr(chat.topic, "bot_setting", None)
    if setting is None or not setting.is_enabled or not bot_may_answer(chat):
        return None
    earlier = list(
        BotAnswerArticle.objects.filter(answer__chat=chat).values_list(
            "answer__question_seq", "article_id"
        )
    )
    if len({seq for seq, _ in earlier}) >= MAX_ANSWERS_PER_CHAT:
        return None
    # An article offered once is not offered again in the same chat: the customer read it.
    matches = match_articles(
        question=question.body,
        topic_slug=chat.topic.slug,
        limit=setting.max_articles,
        min_match=setting.min_match,
        exclude_ids={article_id for _, article_id in earlier if article_id is not None},
    )
    if not matches:
        return None
    offered = _offered(matches)
    return _answer_post(chat_id=chat.pk, question=question, offered=offered)


@transaction.atomic
def _answer_post(
    *, chat_id: int, question: Message, offered: list[dict[str, Any]]
) -> Message | None:
    chat = chat_services.lock_chat(chat_id)
    # Decided again under the lock: an agent may have taken the chat while we matched.
    if not bot_may_answer(chat):
        return None
    if BotAnswer.objects.filter(chat_id=chat.pk, question_seq=question.seq).exists():
        return None  # the task ran twice
    excerpt = question.body[:QUESTION_STORED_LENGTH]
    message = chat_services.bot_message_post(
        chat_id=chat.pk,
        body=answer_text(offered),
        data={"question": excerpt, "articles": offered},
    )
    answer = BotAnswer.objects.create(
        chat=chat, message=message, question_seq=question.seq, question=excerpt
    )
    BotAnswerArticle.objects.bulk_create(
        BotAnswerArticle(answer=answer, article_id=item["id"], title=item["title"], position=i)
        for i, item in enumerate(offered, start=1)
    )
    return message


# --- The customer's side: the bot's state, feedback, asking for a person --------------------------


def bot_frame(*, chat_id: int) -> dict[str, Any]:
    """The `bot` frame of a chat (docs/protocol.md, "Answer bot"); two queries."""
    chat = Chat.objects.select_related("topic__bot_setting", "bot_state").filter(pk=chat_id).first()
    if chat is None:
        raise ChatNotFound()
    setting = getattr(chat.topic, "bot_setting", None)
    state = getattr(chat, "bot_state", None)
    enabled = bool(setting and setting.is_enabled)
    human = bool(state and state.human_requested_at)
    answers = BotAnswer.objects.filter(chat_id=chat.pk).order_by("message__seq")
    helpful = {BotAnswer.Feedback.HELPFUL: True, BotAnswer.Feedback.REJECTED: False}
    return {
        "type": "bot",
        "chat": chat.pk,
        "enabled": enabled,
        "active": enabled
        and chat.status == Chat.Status.QUEUED
        and chat.assigned_at is None
        and not human,
        "human_requested": human,
        "answers": [
            {"message": seq, "helpful": helpful.get(feedback)}
            for seq, feedback in answers.values_list("message__seq", "feedback")
        ],
    }


def _publish_bot_frame(chat_id: int) -> dict[str, Any]:
    """Every customer tab of the chat shows the same: the frame goes to them all after commit."""
    frame = bot_frame(chat_id=chat_id)
    events.publish_on_commit(groups=[events.customer_group(chat_id)], frame=frame)
    return frame


@transaction.atomic
def bot_feedback_record(
    *, chat_id: int, message_seq: int, helpful: bool, close: bool = False
) -> dict[str, Any]:
    """The customer says whether an automated answer helped; with `close` (only with
    `helpful`) the chat closes as resolved by the bot. Returns the chat's `bot` frame.

    The first answer stands: the same one again changes nothing (a double click, another tab);
    the other one is `feedback_given`. Closing needs the chat still queued (`not_queued` once an
    agent has it); a repeat after the close is answered as if it were the first.
    """
    chat = chat_services.lock_chat(chat_id)
    answer = BotAnswer.objects.filter(chat_id=chat.pk, message__seq=message_seq).first()
    if answer is None:
        raise BotAnswerNotFound()
    wanted = BotAnswer.Feedback.HELPFUL if helpful else BotAnswer.Feedback.REJECTED
    if answer.feedback and answer.feedback != wanted:
        raise BotFeedbackGiven()
    repeat = answer.feedback == wanted
    if chat.status == Chat.Status.CLOSED:
        resolved_here = close and repeat and chat.close_reason == Chat.CloseReason.RESOLVED_BY_BOT
        if (repeat and not close) or resolved_here:
            return bot_frame(chat_id=chat.pk)
        raise ChatClosed()
    if close and chat.status != Chat.Status.QUEUED:
        raise BotNotQueued()
    if not repeat:
        answer.feedback = wanted
        answer.feedback_at = timezone.now()
        answer.save(update_fields=["feedback", "feedback_at"])
    if close:
        chat_services.chat_close(
            chat_id=chat.pk,
            by=chat_services.Participant.customer(),
            reason=Chat.CloseReason.RESOLVED_BY_BOT,
        )
    if repeat and not close:
        return bot_frame(chat_id=chat.pk)
    return _publish_bot_frame(chat.pk)


@transaction.atomic
def bot_human_request(*, chat_id: int) -> dict[str, Any]:
    """The customer asks for a person: the bot stops for good, the chat keeps its place in the
    queue. Recorded once, while the chat is queued; asking again (or once an agent has the
    chat) changes nothing. Returns the chat's `bot` frame."""
    chat = chat_services.lock_chat(chat_id)
    if chat.status == Chat.Status.CLOSED:
        raise ChatClosed()
    if chat.status != Chat.Status.QUEUED:
        return bot_frame(chat_id=chat.pk)
    state, _ = BotChat.objects.get_or_create(chat=chat)
    if state.human_requested_at is not None:
        return bot_frame(chat_id=chat.pk)
    state.human_requested_at = timezone.now()
    state.save(update_fields=["human_requested_at"])
    return _publish_bot_frame(chat.pk)
