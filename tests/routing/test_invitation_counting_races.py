"""Invitation counters under concurrency (PostgreSQL): events arriving at once for the same
rule and day, the first of the day included, all count (UPDATE n = n + 1; a lost INSERT race
falls back to the UPDATE)."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from routing.invitation_services import tally_add
from routing.models import InvitationTally
from tests.factories import InvitationRuleFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EVENTS = ["shown"] * 8 + ["accepted"] * 3 + ["dismissed"] * 4


def test_postgres_simultaneous_events_all_count(postgres) -> None:  # type: ignore[no-untyped-def]
    rule = InvitationRuleFactory()
    start = threading.Barrier(len(EVENTS))
    errors: list[BaseException] = []

    def count(event: str) -> None:
        try:
            start.wait(10)
            tally_add(rule_id=rule.pk, event=event)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=count, args=(event,), daemon=True) for event in EVENTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    tally = InvitationTally.objects.get(rule=rule, day=timezone.localdate())
    assert (tally.shown, tally.accepted, tally.dismissed) == (8, 3, 4)
