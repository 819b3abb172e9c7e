"""GET phrases/, GET tone-rules/ and POST tone-check/: what the composer asks as the agent types."""

import re
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from chat.models import Message
from tests.cannedresponses.conftest import client_for
from tests.factories import AgentFactory, ChatFactory, MessageFactory, ToneRuleFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/console/"


def sent(agent: Any, *bodies: str) -> None:
    chat = ChatFactory(agent=agent, status="active")
    for body in bodies:
        MessageFactory(chat=chat, kind=Message.Kind.AGENT, author=agent, body=body)


def test_phrases_from_the_agents_own_messages(api: APIClient, agent: Any) -> None:
    sent(agent, "Thanks for your patience. Checking.", "Thanks for your patience!")
    sent(AgentFactory(), "Thanks for nothing at all.", "Thanks for nothing at all.")
    response = api.get(BASE + "phrases/", {"prefix": "thanks f", "limit": 3})
    assert response.status_code == 200
    assert response.json() == [{"phrase": "Thanks for your patience", "count": 2}]


def test_phrases_without_a_prefix_are_the_most_frequent(api: APIClient, agent: Any) -> None:
    sent(agent, "Let me check that.", "Let me check that now.", "Let me check that again.")
    sent(agent, "One moment please, Ana.", "One moment please, Bo.")
    assert [row["phrase"] for row in api.get(BASE + "phrases/").json()] == [
        "Let me check that",
        "One moment please,",
    ]


@pytest.mark.parametrize("count", [0, 60])
def test_phrases_take_a_constant_number_of_queries(
    agent: Any, count: int, django_assert_num_queries: Any
) -> None:
    sent(agent, *[f"Happy to help with that {i}." for i in range(count)])
    api = client_for(agent)
    # session, user, is_agent, the agent's last messages
    with django_assert_num_queries(4):
        api.get(BASE + "phrases/", {"prefix": "happy"})


def test_tone_rules_lists_the_active_ones_with_a_browser_pattern(
    api: APIClient, django_assert_num_queries: Any
) -> None:
    ToneRuleFactory(phrase="lol", kind="word", note="No chat slang.")
    ToneRuleFactory(phrase="calm down", kind="phrase", note="")
    ToneRuleFactory(phrase="asap", kind="acronym", note="Give a time.")
    ToneRuleFactory(phrase="meh", is_active=False)
    # session, user, is_agent, the rules
    with django_assert_num_queries(4):
        rules = api.get(BASE + "tone-rules/").json()
    assert [(r["phrase"], r["kind"], r["note"]) for r in rules] == [
        ("asap", "acronym", "Give a time."),
        ("calm down", "phrase", ""),
        ("lol", "word", "No chat slang."),
    ]
    calm = rules[1]["pattern"]
    assert calm == r"(?<![\p{L}\p{N}_])(?:calm\s+down)(?![\p{L}\p{N}_])"
    # What the browser runs matches what the server would (Python's \w for the class).
    python = calm.replace(r"[\p{L}\p{N}_]", r"\w")
    assert re.search(python, "Please CALM  down.", re.IGNORECASE)


def test_tone_check_is_the_servers_answer(api: APIClient) -> None:
    ToneRuleFactory(phrase="idk", kind="acronym", note='Say "I don\'t know yet, let me check".')
    ToneRuleFactory(phrase="lol", note="")
    response = api.post(BASE + "tone-check/", {"text": "I.D.K. lol, lollipop"}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "matches": [
            {
                "phrase": "idk",
                "kind": "acronym",
                "note": 'Say "I don\'t know yet, let me check".',
                "start": 0,
                "end": 5,
                "text": "I.D.K",
            },
            {"phrase": "lol", "kind": "word", "note": "", "start": 7, "end": 10, "text": "lol"},
        ]
    }


def test_tone_check_of_a_clean_or_empty_text(api: APIClient) -> None:
    ToneRuleFactory(phrase="lol")
    assert api.post(BASE + "tone-check/", {"text": ""}, format="json").json() == {"matches": []}
    clean = api.post(BASE + "tone-check/", {"text": "Happy to help!"}, format="json")
    assert clean.json() == {"matches": []}


def test_typing_endpoints_are_throttled_per_agent(
    api: APIClient, agent: Any, settings: Any
) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "console_assist": "3/min"}
    settings.REST_FRAMEWORK = rest
    key = ScopedRateThrottle.cache_format % {"scope": "console_assist", "ident": agent.pk}
    cache.delete(key)
    try:
        statuses = [api.get(BASE + "phrases/").status_code for _ in range(2)]
        statuses.append(api.post(BASE + "tone-check/", {"text": "x"}, format="json").status_code)
        throttled = api.get(BASE + "phrases/")
        assert statuses == [200, 200, 200]
        assert throttled.status_code == 429
        assert throttled.json()["code"] == "throttled"
        assert "Retry-After" in throttled
        # Reading the rules and the list is not throttled.
        assert api.get(BASE + "tone-rules/").status_code == 200
    finally:
        cache.delete(key)
