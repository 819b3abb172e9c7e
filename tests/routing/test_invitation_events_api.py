"""POST /api/v1/public/invitations/<rule>/shown|accepted|dismissed/: the widget counts what
became of an invitation. Only with the offer the check handed out for that rule; each offer
counts once as shown and once as accepted or dismissed; counters per rule and day, nothing
about the visitor; hostile input is a 4xx JSON answer that counts nothing."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone
from rest_framework.test import APIClient

from routing.invitation_services import OFFER_SALT, offer_make, tally_add
from routing.models import InvitationTally
from tests.factories import InvitationRuleFactory, InvitationTallyFactory
from tests.routing.invitation_support import event_url, fresh_throttles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    yield from fresh_throttles()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def rule() -> Any:
    return InvitationRuleFactory()


def counts(rule: Any) -> tuple[int, int, int]:
    tally = InvitationTally.objects.filter(rule=rule, day=timezone.localdate()).first()
    return (tally.shown, tally.accepted, tally.dismissed) if tally else (0, 0, 0)


def send(api: APIClient, rule_id: int | str, event: str, offer: object, **extra: Any) -> Any:
    return api.post(event_url(rule_id, event), {"offer": offer}, format="json", **extra)


def test_shown_then_accepted_are_counted(api: APIClient, rule: Any) -> None:
    offer = offer_make(rule_id=rule.pk)
    shown = send(api, rule.pk, "shown", offer)
    assert shown.status_code == 200
    assert shown.json() == {"counted": True}
    assert send(api, rule.pk, "accepted", offer).json() == {"counted": True}
    assert counts(rule) == (1, 1, 0)
    assert shown.cookies == {}


def test_shown_then_dismissed_are_counted(api: APIClient, rule: Any) -> None:
    offer = offer_make(rule_id=rule.pk)
    send(api, rule.pk, "shown", offer)
    send(api, rule.pk, "dismissed", offer)
    assert counts(rule) == (1, 0, 1)


def test_a_repeat_or_a_second_answer_counts_nothing(api: APIClient, rule: Any) -> None:
    offer = offer_make(rule_id=rule.pk)
    send(api, rule.pk, "shown", offer)
    assert send(api, rule.pk, "shown", offer).json() == {"counted": False}
    send(api, rule.pk, "accepted", offer)
    # Accepted or dismissed, once per offer: a dismissal after accepting is not counted.
    assert send(api, rule.pk, "dismissed", offer).json() == {"counted": False}
    assert send(api, rule.pk, "accepted", offer).json() == {"counted": False}
    assert counts(rule) == (1, 1, 0)


def test_each_offer_counts_on_its_own(api: APIClient, rule: Any) -> None:
    for _ in range(3):
        send(api, rule.pk, "shown", offer_make(rule_id=rule.pk))
    assert counts(rule) == (3, 0, 0)


def test_counts_add_to_the_days_row(rule: Any) -> None:
    InvitationTallyFactory(rule=rule, shown=5, accepted=2, dismissed=1)
    tally_add(rule_id=rule.pk, event="shown")
    tally_add(rule_id=rule.pk, event="dismissed")
    assert counts(rule) == (6, 2, 2)
    tomorrow = timezone.now() + timedelta(days=1)
    tally_add(rule_id=rule.pk, event="accepted", day=tomorrow)
    assert InvitationTally.objects.filter(rule=rule).count() == 2


def test_an_unknown_rule_is_404(api: APIClient, rule: Any) -> None:
    offer = offer_make(rule_id=rule.pk + 1000)
    response = send(api, rule.pk + 1000, "shown", offer)
    assert response.status_code == 404
    assert response.json()["code"] == "invitation_not_found"
    assert not InvitationTally.objects.exists()


@pytest.mark.parametrize("rule_id", ["0", "9" * 19, "abc", "-1", "1.5"])
def test_a_malformed_or_oversize_rule_id_is_404(api: APIClient, rule: Any, rule_id: str) -> None:
    response = send(api, rule_id, "shown", offer_make(rule_id=rule.pk))
    assert response.status_code == 404
    assert response.json()["code"] in {"invitation_not_found", "not_found"}
    assert not InvitationTally.objects.exists()


def test_an_unknown_event_is_404(api: APIClient, rule: Any) -> None:
    response = send(api, rule.pk, "clicked", offer_make(rule_id=rule.pk))
    assert response.status_code == 404
    assert not InvitationTally.objects.exists()


def test_an_offer_made_for_another_rule_is_refused(api: APIClient, rule: Any) -> None:
    other = InvitationRuleFactory()
    response = send(api, rule.pk, "accepted", offer_make(rule_id=other.pk))
    assert response.status_code == 400
    assert response.json()["code"] == "offer_invalid"
    assert not InvitationTally.objects.exists()


def test_an_expired_offer_is_refused(api: APIClient, rule: Any, monkeypatch) -> None:
    offer = offer_make(rule_id=rule.pk)
    monkeypatch.setattr("routing.invitation_services.OFFER_MAX_AGE_SECONDS", -1)
    response = send(api, rule.pk, "shown", offer)
    assert response.status_code == 400
    assert response.json()["code"] == "offer_invalid"


@pytest.mark.parametrize(
    "offer",
    [
        "forged",
        "",
        signing.dumps({"r": 1}, salt="another.salt"),
        signing.TimestampSigner(salt=OFFER_SALT).sign_object(["not", "a", "dict"]),
        signing.TimestampSigner(salt=OFFER_SALT).sign_object({"r": "1"}),
        signing.TimestampSigner(salt=OFFER_SALT).sign_object({"r": True}),
        "<script>alert(1)</script>",
    ],
    # Signed values hold the time: fixed ids keep the collection the same on every worker.
    ids=["forged", "empty", "other-salt", "not-a-dict", "string-id", "bool-id", "markup"],
)
def test_a_forged_or_garbled_offer_is_refused(api: APIClient, rule: Any, offer: str) -> None:
    response = send(api, rule.pk, "shown", offer)
    assert response.status_code == 400
    assert response.json()["code"] in {"offer_invalid", "invalid"}
    assert b"<script>" not in response.content
    assert not InvitationTally.objects.exists()


@pytest.mark.parametrize("offer", [42, None, True, ["x"], {"r": 1}, "x" * 201])
def test_an_offer_of_the_wrong_type_or_size_is_400(
    api: APIClient, rule: Any, offer: object
) -> None:
    response = send(api, rule.pk, "shown", offer)
    assert response.status_code == 400
    assert "offer" in response.json()["errors"]


@pytest.mark.parametrize("payload", ["[]", "{", "null", '"offer"'])
def test_a_body_that_is_not_a_json_object_is_400(api: APIClient, rule: Any, payload: str) -> None:
    response = api.post(event_url(rule.pk, "shown"), payload, content_type="application/json")
    assert response.status_code == 400


def test_counting_is_throttled_per_address(api: APIClient, rule: Any, settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public_invitation_event": "2/min",
        },
    }
    for _ in range(2):
        send(api, rule.pk, "shown", offer_make(rule_id=rule.pk))
    response = send(api, rule.pk, "shown", offer_make(rule_id=rule.pk))
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert counts(rule) == (2, 0, 0)


def test_an_event_costs_a_few_queries(
    api: APIClient, rule: Any, django_assert_num_queries: Any
) -> None:
    InvitationTallyFactory(rule=rule)
    with django_assert_num_queries(2):  # the rule exists; today's counter + 1
        send(api, rule.pk, "shown", offer_make(rule_id=rule.pk))
