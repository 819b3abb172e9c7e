"""Invitations on the metrics page: shown, accepted, dismissed and the acceptance rate per rule
and per day, against hand-computed expectations, in one query whatever the range or rules."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from routing.invitation_metrics import invitation_metrics
from tests.factories import (
    InvitationRuleFactory,
    InvitationTallyFactory,
    SupervisorFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

MON, TUE, WED = (datetime.date(2026, 3, d) for d in (2, 3, 4))


@pytest.fixture
def scene() -> dict[str, Any]:
    returns, billing = TopicFactory(name="Returns"), TopicFactory(name="Billing")
    boots = InvitationRuleFactory(name="Boots", topic=returns)
    invoices = InvitationRuleFactory(name="<i>Invoices</i>", topic=billing)
    idle = InvitationRuleFactory(name="Never shown", topic=billing)
    InvitationTallyFactory(rule=boots, day=MON, shown=10, accepted=3, dismissed=5)
    InvitationTallyFactory(rule=boots, day=TUE, shown=4, accepted=1, dismissed=2)
    InvitationTallyFactory(rule=invoices, day=MON, shown=6, accepted=3, dismissed=1)
    # Outside the range below: never counted.
    InvitationTallyFactory(rule=invoices, day=WED, shown=100, accepted=50, dismissed=50)
    InvitationTallyFactory(rule=boots, day=MON - datetime.timedelta(days=1), shown=100)
    return {"boots": boots, "invoices": invoices, "idle": idle, "billing": billing}


def test_per_rule_per_day_and_totals(scene: dict[str, Any]) -> None:
    report = invitation_metrics(since=MON, until=TUE)

    by_rule = [(r.label, r.shown, r.accepted, r.dismissed) for r in report.per_rule]
    # Most shown first; rules never shown in the range are left out.
    assert by_rule == [("Boots", 14, 4, 7), ("<i>Invoices</i>", 6, 3, 1)]
    assert report.per_rule[0].acceptance_rate == pytest.approx(4 / 14)
    assert report.per_rule[1].acceptance_rate == pytest.approx(0.5)
    assert report.per_rule[0].dismissal_rate == pytest.approx(7 / 14)

    by_day = [(r.key, r.shown, r.accepted, r.dismissed) for r in report.per_day]
    assert by_day == [(MON, 16, 6, 6), (TUE, 4, 1, 2)]

    totals = report.totals
    assert (totals.shown, totals.accepted, totals.dismissed) == (20, 7, 8)
    assert totals.acceptance_rate == pytest.approx(0.35)


def test_the_topic_filter_keeps_that_topics_rules(scene: dict[str, Any]) -> None:
    report = invitation_metrics(since=MON, until=WED, topic_id=scene["billing"].pk)
    assert [(r.label, r.shown) for r in report.per_rule] == [("<i>Invoices</i>", 106)]
    assert [(r.key, r.shown) for r in report.per_day] == [(MON, 6), (WED, 100)]


def test_nothing_shown_has_no_rate() -> None:
    report = invitation_metrics(since=MON, until=TUE)
    assert report.per_rule == [] and report.per_day == []
    assert report.totals.shown == 0
    assert report.totals.acceptance_rate is None


@pytest.mark.parametrize("rules", [1, 20])
def test_one_query_whatever_the_rules_and_days(django_assert_num_queries: Any, rules: int) -> None:
    for n in range(rules):
        rule = InvitationRuleFactory()
        for day in range(n % 7 + 1):
            InvitationTallyFactory(rule=rule, day=MON + datetime.timedelta(days=day), shown=1)
    with django_assert_num_queries(1):
        report = invitation_metrics(since=MON, until=MON + datetime.timedelta(days=30))
    assert len(report.per_rule) == rules


# --- On the page ------------------------------------------------------------------------------


@pytest.fixture
def supervisor_client(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


def page(client: Client, **params: str) -> Any:
    return client.get("/admin/metrics/", {"since": "2026-03-02", "until": "2026-03-03", **params})


def test_the_page_shows_the_invitations_section(
    supervisor_client: Client, scene: dict[str, Any]
) -> None:
    response = page(supervisor_client)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chat invitations" in html
    section = html[html.index('id="metrics-invitations-rules"') :]
    assert "<td>Boots</td><td>14</td><td>4</td>" in section
    assert "29 %" in section  # 4 of 14
    assert "35 %" in section  # the total, 7 of 20
    # A rule's name is text, never markup.
    assert "&lt;i&gt;Invoices&lt;/i&gt;" in section and "<i>Invoices" not in section
    days = html[html.index('id="metrics-invitations-days"') :]
    assert "<td>2026-03-02</td><td>16</td><td>6</td>" in days


def test_the_page_says_when_no_invitation_was_shown(supervisor_client: Client) -> None:
    html = page(supervisor_client).content.decode()
    assert "No invitation was shown in this range." in html


def test_the_page_costs_the_same_queries_with_many_rules(supervisor_client: Client) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert page(supervisor_client).status_code == 200
        return len(captured)

    InvitationTallyFactory(rule=InvitationRuleFactory(), day=MON, shown=1)
    one = queries()
    for _ in range(19):
        InvitationTallyFactory(rule=InvitationRuleFactory(), day=TUE, shown=2, accepted=1)
    assert queries() == one
