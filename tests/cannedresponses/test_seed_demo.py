"""cannedresponses_seed_demo: demo responses and tone rules, idempotent, edits kept."""

import pytest
from django.core.management import call_command

from cannedresponses import placeholders
from cannedresponses.models import CannedResponse, ToneRule
from cannedresponses.selectors import tone_matches

pytestmark = pytest.mark.django_db


def test_creates_valid_shared_responses_and_rules_once() -> None:
    call_command("cannedresponses_seed_demo", "--quiet")
    call_command("cannedresponses_seed_demo", "--quiet")

    responses = {r.shortcut: r for r in CannedResponse.objects.all()}
    assert {"greet", "hold", "order"} <= set(responses)
    assert all(r.scope == "shared" and r.is_active for r in responses.values())
    assert responses["greet"].body.startswith("Hi {customer.first_name|there}, I'm {agent.")
    assert placeholders.asks(responses["order"].body) == ["Order number"]
    assert {"lol", "idk", "asap"} <= set(ToneRule.objects.values_list("phrase", flat=True))
    assert CannedResponse.objects.count() == len(responses)
    assert [m["phrase"] for m in tone_matches("idk, lol")] == ["idk", "lol"]


def test_a_rerun_keeps_what_supervisors_changed() -> None:
    call_command("cannedresponses_seed_demo", "--quiet")
    CannedResponse.objects.filter(shortcut="greet").update(body="Hello {customer.name}")
    ToneRule.objects.filter(phrase="lol").update(is_active=False)
    ToneRule.objects.filter(phrase="asap").delete()
    call_command("cannedresponses_seed_demo", "--quiet")
    assert CannedResponse.objects.get(shortcut="greet").body == "Hello {customer.name}"
    assert ToneRule.objects.get(phrase="lol").is_active is False
    assert ToneRule.objects.filter(phrase="asap").exists()  # deleted ones come back
