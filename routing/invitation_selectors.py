"""Reads for proactive invitations: the rules that may invite, which topics have an agent
available, and the decision for one visit (docs/invitations.md). At most two queries per
check, whatever the number of rules: the rules (with their topics' business hours folded in)
and, only when some rule is ready, the agents."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from helpdesk.hours import packed_hours, schedule_from_packed
from routing.invitations import (
    Decision,
    PatternError,
    RuleSpec,
    Visit,
    active_schedule,
    choose,
    parse_patterns,
)
from routing.models import InvitationRule
from routing.selectors import available_agents


def available_topic_ids(*, topic_ids: set[int], now: datetime | None = None) -> set[int]:
    """Those of the topics for which an agent could take a chat now (one query).

    Available is what the router needs to assign at once: chose online, a live console, an
    active member of Agents, room below `max_chats`, and the topic as a skill or no skills
    (a generalist). An invitation promises a quick answer, so a topic whose agents are all
    full or away invites nobody.
    """
    if not topic_ids:
        return set()
    rows = (
        available_agents(now=now)
        .prefetch_related(None)
        .filter(Q(topics__isnull=True) | Q(topics__in=topic_ids))
        .order_by()
        .values_list("topics", flat=True)
        .distinct()
    )
    found = set(rows)
    if None in found:  # a generalist handles every topic
        return set(topic_ids)
    return found & topic_ids


@dataclass(frozen=True)
class InvitationOffer:
    """The rule chosen for a visit, with what the widget shows."""

    rule_id: int
    text: str
    topic_slug: str
    topic_name: str


def _spec(rule: InvitationRule) -> RuleSpec | None:
    try:
        patterns = parse_patterns(rule.url_patterns)
    except PatternError:
        # Saved before a stricter validation (or written around the admin): it invites nobody.
        return None
    return RuleSpec(
        id=rule.pk,
        priority=rule.priority,
        patterns=patterns,
        min_seconds_on_page=rule.min_seconds_on_page,
        min_pages_in_visit=rule.min_pages_in_visit,
        visitors=rule.visitors,
        topic_id=rule.topic_id,
        cap_hours=rule.cap_hours,
        active_hours=active_schedule(
            days=rule.active_days,
            starts=rule.active_from,
            ends=rule.active_until,
            timezone=rule.timezone,
        ),
        topic_hours=schedule_from_packed(
            rule.topic.timezone,
            rule.topic_hours,  # type: ignore[attr-defined]
        ),
    )


def active_rules() -> list[InvitationRule]:
    """Active rules of active topics, each with its topic and the topic's packed business
    hours (one query)."""
    return list(
        InvitationRule.objects.filter(is_active=True, topic__is_active=True)
        .select_related("topic")
        .annotate(topic_hours=packed_hours("topic_id"))
    )


def invitation_for_visit(
    *, visit: Visit, now: datetime | None = None
) -> tuple[InvitationOffer | None, int | None]:
    """The invitation to show this visitor now (or None), and when to ask again on this page
    (seconds, or None: not on this page)."""
    now = now or timezone.now()
    rules = {rule.pk: rule for rule in active_rules()}
    specs = [spec for spec in map(_spec, rules.values()) if spec is not None]
    decision: Decision = choose(
        specs,
        visit,
        now=now,
        available_topics=lambda topic_ids: available_topic_ids(topic_ids=topic_ids, now=now),
    )
    if decision.rule is None:
        return None, decision.check_again_in
    rule = rules[decision.rule.id]
    offer = InvitationOffer(
        rule_id=rule.pk, text=rule.text, topic_slug=rule.topic.slug, topic_name=rule.topic.name
    )
    return offer, None
