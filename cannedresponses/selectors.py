"""Reads of canned responses, phrase suggestions and the tone guard, shaped for the console."""

from collections.abc import Collection
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Lower

from cannedresponses import phrases, tone
from cannedresponses.errors import CannedResponseNotFound
from cannedresponses.models import CannedResponse, ToneRule, TopicGreeting
from chat.models import Message
from helpdesk.models import Topic
from helpdesk.roles import is_supervisor

# A console list is read whole and filtered as the agent types; the most used come first, so
# a (very) long list loses only its least used tail.
LIST_LIMIT = 500
# Phrase suggestions learn from the agent's latest messages; the table is cached per agent.
PHRASES_FROM_LAST = 500
PHRASES_CACHE_SECONDS = 300
PHRASES_CACHE_KEY = "cannedresponses:phrases:v1:{agent_id}"

Scope = CannedResponse.Scope


def _with_use(queryset: QuerySet[CannedResponse], *, agent: Any) -> QuerySet[CannedResponse]:
    """Each response with the agent's own use: their usage row is joined (a LEFT JOIN
    restricted to this agent), never fetched per response."""
    return (
        queryset.select_related("topic")
        .annotate(my_use=FilteredRelation("uses", condition=Q(uses__agent_id=agent.pk)))
        .annotate(
            use_count=Coalesce(F("my_use__count"), 0),
            last_used_at=F("my_use__last_used_at"),
        )
    )


def _ranked(*, agent: Any, visible: Q) -> QuerySet[CannedResponse]:
    """Active responses matching `visible`, the agent's most used first. One query."""
    return _with_use(CannedResponse.objects.filter(visible, is_active=True), agent=agent).order_by(
        F("use_count").desc(),
        F("last_used_at").desc(nulls_last=True),
        Lower("title"),
        "pk",
    )


def responses_for(*, agent: Any, topic: Topic | None) -> list[CannedResponse]:
    """What an agent may insert in a chat of `topic`: the shared responses, the topic's, and
    the agent's own personal ones (never another agent's), ranked by the agent's own use
    (count, then most recent use, then title). One query."""
    visible = Q(scope=Scope.SHARED) | Q(scope=Scope.PERSONAL, owner_id=agent.pk)
    if topic is not None:
        visible |= Q(scope=Scope.TOPIC, topic_id=topic.pk)
    return list(_ranked(agent=agent, visible=visible)[:LIST_LIMIT])


def responses_for_topics(*, agent: Any, topic_ids: Collection[int] | None) -> list[CannedResponse]:
    """The console's list outside a chat: shared, the agent's own, and the responses of the
    topics given (None: every topic). Ranked like `responses_for`. One query."""
    visible = Q(scope=Scope.SHARED) | Q(scope=Scope.PERSONAL, owner_id=agent.pk)
    if topic_ids is None:
        visible |= Q(scope=Scope.TOPIC)
    elif topic_ids:
        visible |= Q(scope=Scope.TOPIC, topic_id__in=list(topic_ids))
    return list(_ranked(agent=agent, visible=visible)[:LIST_LIMIT])


def topic_get(*, topic_id: int) -> Topic | None:
    """Any topic, active or not (a supervisor may prepare responses before it opens)."""
    return Topic.objects.filter(pk=topic_id).first()


def response_with_use(*, agent: Any, response_id: int) -> CannedResponse:
    """One response with the agent's use count (the API's answer after a change)."""
    row = _with_use(CannedResponse.objects.filter(pk=response_id), agent=agent).first()
    if row is None:
        raise CannedResponseNotFound()
    return row


def response_get_for_agent(
    *, agent: Any, response_id: int, active_only: bool = False
) -> CannedResponse:
    """A response the agent may see: shared and topic ones (inactive ones only for
    supervisors), and their own personal ones. Anything else, another agent's personal
    response included, is CannedResponseNotFound: existence is not leaked."""
    own = Q(scope=Scope.PERSONAL, owner_id=agent.pk)
    shared = Q(scope__in=[Scope.SHARED, Scope.TOPIC])
    if active_only:
        own &= Q(is_active=True)
    if active_only or not is_supervisor(agent):
        shared &= Q(is_active=True)
    response = (
        CannedResponse.objects.select_related("topic").filter(own | shared, pk=response_id).first()
    )
    if response is None:
        raise CannedResponseNotFound()
    return response


# --- Phrase suggestions ---------------------------------------------------------------------


def _learned_phrases(*, agent: Any) -> list[phrases.Phrase]:
    key = PHRASES_CACHE_KEY.format(agent_id=agent.pk)
    cached = cache.get(key)
    if cached is not None:
        return [phrases.Phrase(*row) for row in cached]
    bodies = (
        Message.objects.filter(author_id=agent.pk, kind=Message.Kind.AGENT)
        .order_by("-pk")
        .values_list("body", flat=True)[:PHRASES_FROM_LAST]
    )
    table = phrases.learn(bodies)
    # Plain tuples: what any cache backend serialises without surprises.
    cache.set(key, [tuple(row) for row in table], PHRASES_CACHE_SECONDS)
    return table


def phrase_suggestions(*, agent: Any, prefix: str, limit: int) -> list[phrases.Phrase]:
    """Completions of `prefix` from the agent's own frequent sentence openings (learned from
    their last 500 messages; docs/cannedresponses.md). At most one query, none while the
    agent's table is cached."""
    return phrases.suggest(_learned_phrases(agent=agent), prefix=prefix, limit=limit)


def phrases_forget(*, agent_id: int) -> None:
    """Drop the agent's cached table (tests, or after deleting their messages)."""
    cache.delete(PHRASES_CACHE_KEY.format(agent_id=agent_id))


# --- Tone guard -----------------------------------------------------------------------------


def tone_rules_active() -> QuerySet[ToneRule]:
    return ToneRule.objects.filter(is_active=True).order_by(Lower("phrase"), "pk")


def tone_matches(text: str) -> list[tone.Match]:
    """Where `text` uses a word, phrase or acronym of an active tone rule: whole words,
    ignoring case, in the order they appear. No query while the compiled rules are current."""
    return tone.active_matcher().matches(text)


GREETING_SHORTCUT = "greet"


def greeting_response_for(*, topic_id: int) -> CannedResponse | None:
    """The response greeting a new chat of this topic: the topic's own active `/greet`, else
    the shared one; None when neither exists or the topic switched greetings off."""
    if TopicGreeting.objects.filter(topic_id=topic_id, enabled=False).exists():
        return None
    candidates = CannedResponse.objects.filter(
        Q(scope=Scope.TOPIC, topic_id=topic_id) | Q(scope=Scope.SHARED),
        shortcut=GREETING_SHORTCUT,
        is_active=True,
    )
    # "shared" sorts before "topic": order the topic's own first explicitly.
    by_scope = {response.scope: response for response in candidates}
    return by_scope.get(Scope.TOPIC) or by_scope.get(Scope.SHARED)


def topics_with_greeting(topics: QuerySet[Topic]) -> QuerySet[Topic]:
    """The topics annotated with what `greeting_response_for` would decide, in the same query:
    `greeting_off` (switched off), `greeting_own` (an active /greet of the topic) and
    `greeting_shared` (an active shared /greet). For list screens."""
    greet = CannedResponse.objects.filter(shortcut=GREETING_SHORTCUT, is_active=True)
    return topics.annotate(
        greeting_off=Exists(TopicGreeting.objects.filter(topic_id=OuterRef("pk"), enabled=False)),
        greeting_own=Exists(greet.filter(scope=Scope.TOPIC, topic_id=OuterRef("pk"))),
        greeting_shared=Exists(greet.filter(scope=Scope.SHARED)),
    )


# --- The integrators' API (/api/v1/canned-responses/) -----------------------------------------


def responses_for_api(
    *,
    agent: Any,
    include_inactive: bool,
    topic_id: int | None = None,
    scope: str | None = None,
    active: bool | None = None,
    search: str | None = None,
) -> QuerySet[CannedResponse]:
    """What the API's user may read: the shared and topic responses (inactive ones only with
    `include_inactive`, i.e. for supervisors) and their own personal ones, never another
    agent's. `topic_id`: what fits a chat of that topic (shared, that topic's, their own).
    `search`: in the title, shortcut or body, ignoring case. With the user's own use
    (`use_count`, `last_used_at`), joined: one query."""
    team = Q(scope__in=[Scope.SHARED, Scope.TOPIC])
    if not include_inactive:
        team &= Q(is_active=True)
    rows = _with_use(
        CannedResponse.objects.filter(team | Q(scope=Scope.PERSONAL, owner_id=agent.pk)),
        agent=agent,
    )
    if topic_id is not None:
        rows = rows.filter(~Q(scope=Scope.TOPIC) | Q(topic_id=topic_id))
    if scope:
        rows = rows.filter(scope=scope)
    if active is not None:
        rows = rows.filter(is_active=active)
    if search:
        rows = rows.filter(
            Q(title__icontains=search) | Q(shortcut__icontains=search) | Q(body__icontains=search)
        )
    return rows
