"""Supervisors manage shared responses and tone rules in the admin; usage is read only."""

from typing import Any

import pytest
from django.test import Client

from cannedresponses import tone
from cannedresponses.models import CannedResponse, ToneRule
from cannedresponses.selectors import tone_matches
from tests.factories import (
    AgentFactory,
    CannedResponseFactory,
    CannedResponseUseFactory,
    SupervisorFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

ADD = "/admin/cannedresponses/cannedresponse/add/"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


def form(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Greeting",
        "shortcut": "greet",
        "scope": "shared",
        "topic": "",
        "owner": "",
        "body": "Hi {customer.first_name|there}",
        "is_active": "on",
        "uses-TOTAL_FORMS": "0",
        "uses-INITIAL_FORMS": "0",
        "uses-MIN_NUM_FORMS": "0",
        "uses-MAX_NUM_FORMS": "1000",
    } | changes


def test_a_supervisor_lists_filters_and_searches(admin_client: Client) -> None:
    topic = TopicFactory(name="Returns")
    greet = CannedResponseFactory(shortcut="greet", title="Greeting")
    CannedResponseFactory(shortcut="ret", title="Returns label", scope="topic", topic=topic)
    CannedResponseUseFactory(response=greet, count=7)
    listing = admin_client.get("/admin/cannedresponses/cannedresponse/")
    assert listing.status_code == 200
    assert "Greeting" in listing.content.decode()
    filtered = admin_client.get(
        "/admin/cannedresponses/cannedresponse/", {"scope": "topic", "q": "label"}
    )
    assert "Returns label" in filtered.content.decode()
    assert "Greeting" not in filtered.content.decode()
    change = admin_client.get(f"/admin/cannedresponses/cannedresponse/{greet.pk}/change/")
    assert change.status_code == 200  # with its read-only usage inline


def test_a_shared_response_is_added_with_a_normalised_shortcut(admin_client: Client) -> None:
    response = admin_client.post(ADD, form(shortcut="/Greet"))
    assert response.status_code == 302, response.content.decode()[:2000]
    created = CannedResponse.objects.get()
    assert (created.shortcut, created.scope) == ("greet", "shared")
    assert created.created_by is not None


def test_placeholder_problems_show_in_the_form(admin_client: Client) -> None:
    response = admin_client.post(ADD, form(body="Hi {customer.__class__} {x:>10}"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "{customer.__class__}" in errors["body"][0]
    assert "format specifications" in errors["body"][1]
    assert not CannedResponse.objects.exists()


def test_scope_fields_and_duplicates_show_in_the_form(admin_client: Client) -> None:
    CannedResponseFactory(shortcut="greet")
    duplicate = admin_client.post(ADD, form())
    assert "already the shortcut of a shared response" in str(
        duplicate.context["adminform"].form.errors["shortcut"]
    )
    no_topic = admin_client.post(ADD, form(scope="topic", shortcut="other"))
    assert "needs a topic" in str(no_topic.context["adminform"].form.errors["topic"])
    no_owner = admin_client.post(ADD, form(scope="personal", shortcut="other"))
    assert "needs its owner" in str(no_owner.context["adminform"].form.errors["owner"])


def test_an_agents_personal_response_is_read_only_for_a_supervisor(
    admin_client: Client,
) -> None:
    theirs = CannedResponseFactory(personal=True, owner=AgentFactory(), title="Mine")
    url = f"/admin/cannedresponses/cannedresponse/{theirs.pk}/change/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, form(title="Changed")).status_code == 403
    theirs.refresh_from_db()
    assert theirs.title == "Mine"


def test_usage_is_read_only(admin_client: Client) -> None:
    use = CannedResponseUseFactory(count=3)
    assert admin_client.get("/admin/cannedresponses/cannedresponseuse/").status_code == 200
    assert admin_client.get("/admin/cannedresponses/cannedresponseuse/add/").status_code == 403
    change = f"/admin/cannedresponses/cannedresponseuse/{use.pk}/change/"
    assert admin_client.post(change, {"count": 99}).status_code == 403


def test_a_tone_rule_added_in_the_admin_takes_effect(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    assert tone_matches("lol") == []
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/cannedresponses/tonerule/add/",
            {"phrase": " LOL ", "kind": "word", "note": "No slang.", "is_active": "on"},
        )
    assert response.status_code == 302
    assert ToneRule.objects.get().phrase == "LOL"
    assert [m["text"] for m in tone_matches("lol")] == ["lol"]


def test_deactivating_rules_in_bulk_takes_effect(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    rule = ToneRule.objects.create(phrase="lol", kind="word")
    tone.invalidate()
    assert len(tone_matches("lol")) == 1
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/cannedresponses/tonerule/",
            {"action": "deactivate", "_selected_action": [rule.pk]},
        )
    assert tone_matches("lol") == []


def test_an_agent_is_not_let_in(client: Client) -> None:
    client.force_login(AgentFactory())
    assert client.get("/admin/cannedresponses/cannedresponse/").status_code == 302
