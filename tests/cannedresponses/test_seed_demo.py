"""cannedresponses_seed_demo: demo responses, tone rules and the answer bot of the demo topics
with articles, idempotent, edits kept."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from cannedresponses import placeholders
from cannedresponses.models import BOT_DEFAULT_MIN_MATCH, CannedResponse, ToneRule, TopicBot
from cannedresponses.selectors import tone_matches
from helpdesk.models import Topic
from tests.factories import ArticleFactory, TopicFactory

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


def _bots() -> dict[str, bool]:
    return dict(TopicBot.objects.values_list("topic__slug", "is_enabled"))


def test_the_bot_is_on_for_the_demo_topics_with_articles(settings: Any) -> None:
    # `make run`'s order: the demo topics, their articles, then this.
    settings.DEBUG = True  # seed_demo's users have public passwords
    call_command("seed_demo", "--quiet")
    call_command("helpdesk_seed_articles", "--quiet")
    TopicFactory(slug="warranty", name="Warranty")  # not a demo topic: left alone
    ArticleFactory(topic=Topic.objects.get(slug="warranty"))
    out = StringIO()
    call_command("cannedresponses_seed_demo", stdout=out)

    # Complaints has no article: a bot there would have nothing to offer.
    assert _bots() == {"returns": True, "billing": True, "product-questions": True}
    assert "Answer bot on for: Returns, Billing, Product questions." in out.getvalue()
    assert TopicBot.objects.get(topic__slug="returns").min_match == BOT_DEFAULT_MIN_MATCH


def test_no_bot_without_articles_and_a_bot_switched_off_stays_off(settings: Any) -> None:
    settings.DEBUG = True
    call_command("seed_demo", "--quiet")
    out = StringIO()
    call_command("cannedresponses_seed_demo", stdout=out)
    assert _bots() == {}
    assert "run helpdesk_seed_articles first" in out.getvalue()

    call_command("helpdesk_seed_articles", "--quiet")
    call_command("cannedresponses_seed_demo", "--quiet")
    TopicBot.objects.filter(topic__slug="billing").update(is_enabled=False)
    ArticleFactory(topic=Topic.objects.get(slug="complaints"), is_published=False)
    call_command("cannedresponses_seed_demo", "--quiet")
    assert _bots() == {"returns": True, "billing": False, "product-questions": True}
