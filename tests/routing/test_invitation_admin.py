"""Supervisors set up invitation rules in the admin: bad patterns (regular expressions above
all), bad hours, too long or garbled text, no day, an unknown zone are refused with the reason
next to the field; the list shows each rule's conditions and counts in a constant number of
queries; the preview shows the text escaped, exactly as visitors will read it."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from routing.models import InvitationRule
from tests.changelist import changelist_rows
from tests.factories import (
    AgentFactory,
    InvitationRuleFactory,
    InvitationTallyFactory,
    SupervisorFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/admin/routing/invitationrule/"
ADD = LIST + "add/"


@pytest.fixture
def supervisor_client(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


@pytest.fixture
def topic() -> Any:
    return TopicFactory(name="Returns", slug="returns")


def form(topic: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Boots pages",
        "is_active": "on",
        "priority": "1",
        "topic": str(topic.pk),
        "url_patterns": "/shop/boots/*\n!/shop/boots/checkout",
        "min_seconds_on_page": "20",
        "min_pages_in_visit": "2",
        "visitors": "returning",
        "active_days": ["0", "1", "2", "3", "4"],
        "active_from": "09:00",
        "active_until": "17:30",
        "timezone": "Europe/Lisbon",
        "text": "Questions about sizes? We're here.",
        "cap_hours": "12",
    }
    data.update(overrides)
    return data


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form was accepted"
    return {
        field: list(messages)
        for field, messages in response.context["adminform"].form.errors.items()
    }


def test_a_supervisor_adds_a_rule(supervisor_client: Client, topic: Any) -> None:
    response = supervisor_client.post(ADD, form(topic))
    assert response.status_code == 302
    rule = InvitationRule.objects.get()
    assert rule.active_days == "01234"
    assert rule.visitors == "returning"
    assert str(rule.active_until) == "17:30:00"
    assert rule.timezone == "Europe/Lisbon"


def test_the_add_form_starts_with_every_day_ticked(supervisor_client: Client) -> None:
    response = supervisor_client.get(ADD)
    assert response.status_code == 200
    html = response.content.decode()
    for day in range(7):
        assert f'value="{day}"' in html
    assert html.count("checked") >= 8  # seven days, and "active"


@pytest.mark.parametrize(
    "patterns, message",
    [
        ("^/shop/.*$", "looks like a regular expression"),
        ("/(a+)+$", "looks like a regular expression"),  # catastrophic backtracking as a regex
        ("/(x|xx)*y", "looks like a regular expression"),
        ("/shop/[a-z]+", "looks like a regular expression"),
        ("shop/*", "must start with “/”"),
        ("https://shop.example.com/*", "must start with “/”"),
        ("/search?q=*", "query string"),
        ("/sho p", "blanks"),
        ("", "This field is required."),
        ("/" + "x" * 300, "too long"),
        ("\n".join(f"/p{n}" for n in range(21)), "at most 20 patterns"),
    ],
)
def test_bad_patterns_are_refused_with_a_clear_error(
    supervisor_client: Client, topic: Any, patterns: str, message: str
) -> None:
    errors = errors_of(supervisor_client.post(ADD, form(topic, url_patterns=patterns)))
    assert any(message in text for text in errors["url_patterns"]), errors
    assert not InvitationRule.objects.exists()


@pytest.mark.parametrize(
    "starts, ends, field, message",
    [
        ("17:00", "09:00", "active_until", "The end must be after the start"),
        ("09:00", "09:00", "active_until", "The end must be after the start"),
        ("25:00", "", "active_from", "Enter a valid time."),
        ("9am", "", "active_from", "Enter a valid time."),
    ],
)
def test_bad_hours_are_refused(
    supervisor_client: Client, topic: Any, starts: str, ends: str, field: str, message: str
) -> None:
    response = supervisor_client.post(ADD, form(topic, active_from=starts, active_until=ends))
    assert any(message in text for text in errors_of(response)[field])
    assert not InvitationRule.objects.exists()


@pytest.mark.parametrize(
    "starts, ends", [("18:00", "00:00"), ("", "12:00"), ("08:00", ""), ("", "")]
)
def test_open_ended_hours_and_midnight_are_fine(
    supervisor_client: Client, topic: Any, starts: str, ends: str
) -> None:
    response = supervisor_client.post(ADD, form(topic, active_from=starts, active_until=ends))
    assert response.status_code == 302


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("text", "x" * 201, "at most 200 characters"),
        ("text", "Hello\x1bthere", "plain text without control characters"),
        ("text", "Hello\x00there", "Null characters are not allowed."),
        ("text", "", "This field is required."),
        ("active_days", [], "Choose at least one day."),
        ("active_days", ["7"], "Select a valid choice"),
        ("timezone", "Mars/Olympus", "not a known time zone"),
        ("cap_hours", "0", "greater than or equal to 1"),
        ("cap_hours", "721", "less than or equal to 720"),
        ("min_seconds_on_page", "3601", "less than or equal to 3600"),
        ("min_seconds_on_page", "-1", "greater than or equal to 0"),
        ("min_pages_in_visit", "0", "greater than or equal to 1"),
        ("visitors", "robots", "Select a valid choice"),
    ],
)
def test_other_bad_fields_are_refused(
    supervisor_client: Client, topic: Any, field: str, value: Any, message: str
) -> None:
    errors = errors_of(supervisor_client.post(ADD, form(topic, **{field: value})))
    assert any(message in text for text in errors[field]), errors
    assert not InvitationRule.objects.exists()


def test_markup_in_the_text_is_kept_as_text_and_previewed_escaped(
    supervisor_client: Client, topic: Any
) -> None:
    text = "<script>alert('hi')</script> & <b>bold</b>"
    supervisor_client.post(ADD, form(topic, text=text))
    rule = InvitationRule.objects.get()
    assert rule.text == text
    html = supervisor_client.get(f"{LIST}{rule.pk}/change/").content.decode()
    assert "<script>alert(" not in html
    assert (
        "&lt;script&gt;alert(&#x27;hi&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    )
    assert "invitation-preview" in html


def test_the_list_shows_conditions_hours_cap_and_counts(
    supervisor_client: Client, topic: Any
) -> None:
    rule = InvitationRuleFactory(
        name="Boots",
        topic=topic,
        url_patterns="/shop/boots/*\n!/shop/boots/checkout",
        min_seconds_on_page=20,
        min_pages_in_visit=2,
        visitors="returning",
        active_days="01234",
        active_from="09:00",
        active_until="17:00",
        timezone="Europe/Lisbon",
        cap_hours=12,
    )
    InvitationTallyFactory(rule=rule, day="2026-03-02", shown=8, accepted=2, dismissed=5)
    InvitationTallyFactory(rule=rule, day="2026-03-03", shown=2, accepted=1, dismissed=0)
    InvitationRuleFactory(name="Everywhere", topic=topic)

    rows = {r["name"]: r for r in changelist_rows(supervisor_client.get(LIST).content.decode())}

    rows["Boots"].pop("is_active")  # an editable checkbox: its state is not text
    assert rows["Boots"] == {
        "name": "Boots",
        "priority": "0",
        "topic": "Returns",
        "patterns": "/shop/boots/* !/shop/boots/checkout",
        "conditions": "20 s on the page, from page 2 of the visit, returning visitors only",
        "active_hours": "Mon-Fri 09:00-17:00 (Europe/Lisbon)",
        "cap": "1 per 12 h",
        "shown": "10",
        "accepted": "3",
        "dismissed": "5",
        "acceptance": "30 %",
    }
    assert rows["Everywhere"]["active_hours"] == "always"
    assert rows["Everywhere"]["shown"] == "0"
    assert rows["Everywhere"]["acceptance"] == "\u2013"


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_one_rule_or_twenty(
    supervisor_client: Client,
) -> None:
    def rule_with_counts() -> None:
        rule = InvitationRuleFactory(topic=TopicFactory())
        InvitationTallyFactory(rule=rule, day="2026-03-02", shown=3)
        InvitationTallyFactory(rule=rule, day="2026-03-03", shown=1)

    rule_with_counts()
    one = _list_queries(supervisor_client)
    for _ in range(19):
        rule_with_counts()
    assert _list_queries(supervisor_client) == one


def test_agents_cannot_manage_rules(client: Client) -> None:
    client.force_login(AgentFactory(is_staff=True))
    assert client.get(LIST).status_code in {302, 403}
