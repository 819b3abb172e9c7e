"""Reads of the helpdesk core."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from helpdesk.addresses import address_hash
from helpdesk.hours import PACKED_HOURS, packed_hours, schedule_of
from helpdesk.models import Article, Customer, CustomerBlock, Ticket, TicketReply, Topic
from helpdesk.query_filters import created_between, filter_given


def topic_list_active() -> QuerySet[Topic]:
    """Active topics in the widget's order, each with its business hours folded in (the
    `packed_hours` annotation): whether they are open costs no further query."""
    return (
        Topic.objects.filter(is_active=True)
        .annotate(**{PACKED_HOURS: packed_hours("pk")})
        .order_by("position", "name")
    )


def topic_get_active(*, slug: str) -> Topic | None:
    return topic_list_active().filter(slug=slug).first()


# --- Business hours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicAvailability:
    topic: Topic
    open_now: bool
    # When a closed topic opens next (in its own zone); None while open.
    opens_at: datetime | None

    @property
    def slug(self) -> str:
        return self.topic.slug

    @property
    def name(self) -> str:
        return self.topic.name


def topic_availability(*, topic: Topic, at: datetime | None = None) -> TopicAvailability:
    schedule = schedule_of(topic)
    at = at or timezone.now()
    return TopicAvailability(
        topic=topic, open_now=schedule.is_open(at), opens_at=schedule.next_opening(at)
    )


def topic_list_active_with_availability(*, at: datetime | None = None) -> list[TopicAvailability]:
    """Active topics in the widget's order, each open now or not: one query whatever the
    number of topics."""
    at = at or timezone.now()
    return [topic_availability(topic=topic, at=at) for topic in topic_list_active()]


# --- Tickets ----------------------------------------------------------------------------------


def ticket_open_count() -> int:
    return Ticket.objects.filter(status=Ticket.Status.OPEN).count()


def ticket_list(*, status: str = Ticket.Status.OPEN, limit: int = 200) -> QuerySet[Ticket]:
    """Tickets of one status, newest first, with what a list row shows (one query)."""
    return (
        Ticket.objects.filter(status=status)
        .select_related("topic", "customer")
        .order_by("-created_at", "-pk")[:limit]
    )


def ticket_get(*, ticket_id: int) -> Ticket | None:
    """A ticket with its topic, customer and replies (and their authors)."""
    return (
        Ticket.objects.select_related("topic", "customer")
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=TicketReply.objects.select_related("author").order_by("created_at", "pk"),
            )
        )
        .filter(pk=ticket_id)
        .first()
    )


def ticket_transcript(*, ticket: Ticket) -> list[Any]:
    """The messages of the chat the ticket was left from, oldest first (empty without one).

    One query. The model is looked up by name, like the string relation `Ticket.chat`: the
    helpdesk core (floor 1) never imports chat (floor 2).
    """
    if ticket.chat_id is None:
        return []
    message_model = apps.get_model("chat", "Message")
    return list(
        message_model.objects.filter(chat_id=ticket.chat_id)
        .select_related("author")
        .order_by("seq")
    )


def tickets_for_email(*, email: str, limit: int = 10) -> list[Ticket]:
    """A customer's tickets, newest first (the console's customer history); one query."""
    if not email:
        return []
    return list(
        Ticket.objects.filter(email__iexact=email)
        .select_related("topic")
        .order_by("-created_at", "-pk")[:limit]
    )


# --- Knowledge base ---------------------------------------------------------------------------

# The longest search the API and the help page accept (they answer 400 past it); the selector
# itself cuts anything longer, so no caller can send the database an unbounded query.
ARTICLE_QUERY_MAX_LENGTH = 200
# On SQLite every word is one more LIKE per column: words past this many are ignored.
ARTICLE_QUERY_MAX_WORDS = 10
ARTICLE_SEARCH_LIMIT = 10
# PostgreSQL's text search configuration: English stemming ("refunds" finds "refund").
ARTICLE_SEARCH_CONFIG = "english"
# Control characters (tab, newline and carriage return aside) have no place in a search, and
# PostgreSQL refuses NUL in a string outright.
ARTICLE_QUERY_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ARTICLE_WORD = re.compile(r"\w+")
_ARTICLE_LAST_WORD = re.compile(r"\w+$")


def article_query_normalise(text: str) -> str:
    """The search as the database will see it: control characters gone, whitespace collapsed,
    at most ARTICLE_QUERY_MAX_LENGTH characters."""
    text = ARTICLE_QUERY_FORBIDDEN.sub(" ", text)
    return " ".join(text.split())[:ARTICLE_QUERY_MAX_LENGTH].strip()


def article_list_published() -> QuerySet[Article]:
    """Published articles by title, with their topic (the help index)."""
    return Article.objects.filter(is_published=True).select_related("topic").order_by("title")


def article_get_published(*, slug: str) -> Article | None:
    return article_list_published().filter(slug=slug).first()


def _full_text_search_available() -> bool:
    # Read per call: the tests (and a deployment) may run on either database.
    return connection.vendor == "postgresql"


def _topic_first(topic_slug: str | None) -> Case | Value:
    if not topic_slug:
        return Value(0)
    return Case(When(topic__slug=topic_slug, then=Value(1)), default=Value(0))


def article_search(
    *, query: str, topic_slug: str | None = None, limit: int = ARTICLE_SEARCH_LIMIT
) -> list[Article]:
    """Published articles matching `query`, best first, at most `limit`; one query.

    PostgreSQL: full-text search in "websearch" syntax (quotes, `or`, `-word`) ranked with the
    title weighing most (A), then the tags (B), then the body (C). Elsewhere (SQLite): every
    word must appear in the title, the tags or the body (case-insensitive), titles holding
    more of the words first. Either way, with `topic_slug` the topic's articles come first.
    """
    text = article_query_normalise(query)
    if not text:
        return []
    articles = article_list_published().annotate(topic_first=_topic_first(topic_slug))
    if _full_text_search_available():
        ranked = _article_search_postgres(articles, text)
    else:
        ranked = _article_search_fallback(articles, text)
    if ranked is None:
        return []
    return list(ranked[:limit])


def _article_search_postgres(articles: QuerySet[Article], text: str) -> QuerySet[Article]:
    config = ARTICLE_SEARCH_CONFIG
    vector = (
        SearchVector("title", weight="A", config=config)
        + SearchVector("tags", weight="B", config=config)
        + SearchVector("body", weight="C", config=config)
    )
    search = _article_search_query(text)
    return (
        articles.annotate(document=vector, rank=SearchRank(vector, search))
        .filter(document=search)
        .order_by("-topic_first", "-rank", "title")
    )


def _article_search_query(text: str) -> SearchQuery:
    """The text in web search syntax, or the same with its last word as a prefix: the console
    searches as the agent types, and "retur" should already find "return" (the fallback's
    substring match does that by itself)."""
    config = ARTICLE_SEARCH_CONFIG
    search = SearchQuery(text, search_type="websearch", config=config)
    last = _ARTICLE_LAST_WORD.search(text)
    # An excluded last word ("-store") and the `or` operator keep their meaning; a closing
    # quote ends no word, so a phrase stays exact.
    if last is None or text[: last.start()].endswith("-") or last.group(0).lower() == "or":
        return search
    # Only letters, digits and "_" reach the raw syntax: none of its operators can.
    prefix = SearchQuery(f"{last.group(0)}:*", search_type="raw", config=config)
    head = text[: last.start()].strip()
    if head:
        prefix = SearchQuery(head, search_type="websearch", config=config) & prefix
    # Either way: "office or shop" still means either word, "retur" finds "return".
    return search | prefix


def _article_search_fallback(articles: QuerySet[Article], text: str) -> QuerySet[Article] | None:
    words = list(dict.fromkeys(word.casefold() for word in _ARTICLE_WORD.findall(text)))
    words = words[:ARTICLE_QUERY_MAX_WORDS]
    if not words:
        return None
    for word in words:
        articles = articles.filter(
            Q(title__icontains=word) | Q(tags__icontains=word) | Q(body__icontains=word)
        )

    def hits(field: str) -> Any:
        cases = [
            Case(When(**{f"{field}__icontains": word}, then=Value(1)), default=Value(0))
            for word in words
        ]
        return sum(cases[1:], cases[0])

    return articles.annotate(title_hits=hits("title"), tag_hits=hits("tags")).order_by(
        "-topic_first", "-title_hits", "-tag_hits", "title"
    )


# --- Blocked customers --------------------------------------------------------------------------


def active_block_for(*, email: str, browser_key: str, ip: str) -> CustomerBlock | None:
    """The block that keeps this customer out, or None. One query.

    A block counts until a supervisor lifts it; its address part only until ip_blocked_until.
    Emails compare case-insensitively; blank values match nothing (a customer without an
    email is not "blocked by the blank email").
    """
    email = email.strip()
    ip_hash = address_hash(ip)
    who = Q()
    if email:
        who |= Q(email__iexact=email)
    if browser_key:
        who |= Q(browser_key=browser_key)
    if ip_hash:
        who |= Q(ip_hash=ip_hash, ip_blocked_until__gt=timezone.now())
    if not who:
        return None
    return CustomerBlock.objects.filter(who, lifted_at__isnull=True).order_by("-created_at").first()


# --- The integrators' API (/api/v1/) ------------------------------------------------------------


def topics_for_api(*, active: bool | None = None) -> QuerySet[Topic]:
    """Topics (all, or only the active or inactive ones) with their business hours folded in
    (`packed_hours`): the hours and whether a topic is open cost no further query."""
    topics = Topic.objects.annotate(**{PACKED_HOURS: packed_hours("pk")})
    if active is not None:
        topics = topics.filter(is_active=active)
    return topics


def topic_get_for_api(*, topic_id: int) -> Topic | None:
    return topics_for_api().filter(pk=topic_id).first()


def tickets_for_api(
    *,
    status: str | None = None,
    email: str | None = None,
    reference: str | None = None,
    topic_id: int | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Ticket]:
    """Tickets matching every filter given, with their topic and customer (one query a page).
    Tickets are team-wide, as in the console: every agent answers any of them."""
    tickets = filter_given(
        Ticket.objects.select_related("topic", "customer"),
        status=status,
        email__iexact=email,
        reference__iexact=reference,
        topic_id=topic_id,
    )
    return created_between(tickets, after=created_after, before=created_before)


def articles_for_api(
    *,
    include_unpublished: bool,
    published: bool | None = None,
    topic_id: int | None = None,
) -> QuerySet[Article]:
    """Articles with their topic: published ones only unless `include_unpublished` (what a
    supervisor may see), then narrowed by the filters."""
    articles = Article.objects.select_related("topic")
    if not include_unpublished:
        articles = articles.filter(is_published=True)
    return filter_given(articles, is_published=published, topic_id=topic_id)


def article_get_for_api(*, article_id: int, include_unpublished: bool) -> Article | None:
    return articles_for_api(include_unpublished=include_unpublished).filter(pk=article_id).first()


def customer_get(*, customer_id: int) -> Customer | None:
    return Customer.objects.filter(pk=customer_id).first()
