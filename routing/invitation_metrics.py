"""Proactive invitations on the metrics page: shown, accepted, dismissed and the acceptance
rate, per rule and per day (docs/invitations.md), and per topic (the rules' topics: the CSV
export's topic rows). One query whatever the range or the number of rules: the daily counters
(one row per rule and day with any event) are read and summed here."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from routing.models import InvitationTally


@dataclass(frozen=True)
class InvitationRow:
    key: object  # the rule's id, a date, or None for the totals
    label: str
    shown: int
    accepted: int
    dismissed: int

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted of shown; None when nothing was shown."""
        return self.accepted / self.shown if self.shown else None

    @property
    def dismissal_rate(self) -> float | None:
        return self.dismissed / self.shown if self.shown else None


@dataclass(frozen=True)
class InvitationReport:
    since: datetime.date
    until: datetime.date
    per_rule: list[InvitationRow]  # rules with any event in the range, most shown first
    per_day: list[InvitationRow]  # days with any event, oldest first
    per_topic: list[InvitationRow]  # the rules' topics with any event, by name
    totals: InvitationRow


def _row(key: object, label: str, counts: list[int]) -> InvitationRow:
    return InvitationRow(key, label, counts[0], counts[1], counts[2])


def invitation_metrics(
    *, since: datetime.date, until: datetime.date, topic_id: int | None = None
) -> InvitationReport:
    """Days are the site's TIME_ZONE days the counters were kept in (both ends included);
    `topic_id` keeps the rules of that topic."""
    tallies = InvitationTally.objects.filter(day__gte=since, day__lte=until)
    if topic_id is not None:
        tallies = tallies.filter(rule__topic_id=topic_id)
    rows = tallies.values_list(
        "rule_id",
        "rule__name",
        "rule__topic_id",
        "rule__topic__name",
        "day",
        "shown",
        "accepted",
        "dismissed",
    )
    by_rule: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_day: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_topic: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    names: dict[int, str] = {}
    topic_names: dict[int, str] = {}
    totals = [0, 0, 0]
    for rule_id, name, topic_id, topic_name, day, *counts in rows:
        names[rule_id] = name
        topic_names[topic_id] = topic_name
        for index, count in enumerate(counts):
            by_rule[rule_id][index] += count
            by_day[day][index] += count
            by_topic[topic_id][index] += count
            totals[index] += count
    per_rule = sorted(
        (_row(rule_id, names[rule_id], counts) for rule_id, counts in by_rule.items()),
        key=lambda r: (-r.shown, r.label.lower(), r.key),  # type: ignore[arg-type]
    )
    per_day = [_row(day, day.isoformat(), by_day[day]) for day in sorted(by_day)]
    per_topic = sorted(
        (_row(topic_id, topic_names[topic_id], counts) for topic_id, counts in by_topic.items()),
        key=lambda r: (r.label.lower(), r.key),  # type: ignore[arg-type]
    )
    return InvitationReport(
        since=since,
        until=until,
        per_rule=per_rule,
        per_day=per_day,
        per_topic=per_topic,
        totals=_row(None, "Total", totals),
    )
