"""Supervisors list news subscriptions and, on a customer's word, unsubscribe them or confirm
pending ones; an address that unsubscribed is never subscribed again by staff."""

import pytest

from tests.factories import AgentFactory, SubscriptionFactory, SupervisorFactory
from transcripts.models import Subscription

pytestmark = pytest.mark.django_db

LIST = "/admin/transcripts/subscription/"


@pytest.fixture
def lead(client):  # type: ignore[no-untyped-def]
    user = SupervisorFactory()
    client.force_login(user)
    return user


def act(client, action: str, *subs: Subscription):  # type: ignore[no-untyped-def]
    response = client.post(
        LIST, {"action": action, "_selected_action": [s.pk for s in subs]}, follow=True
    )
    for sub in subs:
        sub.refresh_from_db()
    return [str(m) for m in response.context["messages"]]


def test_the_list_and_search(client, lead) -> None:  # type: ignore[no-untyped-def]
    SubscriptionFactory(email="ana@example.com")
    SubscriptionFactory(email="bo@example.com")
    rows = client.get(LIST + "?q=ANA").context["cl"].result_list
    assert [s.email for s in rows] == ["ana@example.com"]
    assert client.get(LIST + "add/").status_code == 403


def test_unsubscribe(client, lead) -> None:  # type: ignore[no-untyped-def]
    confirmed = SubscriptionFactory(status=Subscription.Status.CONFIRMED)
    pending = SubscriptionFactory()
    assert act(client, "unsubscribe_selected", confirmed, pending) == ["Unsubscribed 2 addresses."]
    assert {confirmed.status, pending.status} == {Subscription.Status.UNSUBSCRIBED}
    assert confirmed.unsubscribed_at is not None


def test_mark_confirmed_leaves_unsubscribed_addresses_alone(client, lead) -> None:  # type: ignore[no-untyped-def]
    pending = SubscriptionFactory()
    gone = SubscriptionFactory(status=Subscription.Status.UNSUBSCRIBED)
    notes = act(client, "confirm_selected", pending, gone)
    assert notes == ["Confirmed 1 address. 1 unsubscribed address left as they are."]
    assert pending.status == Subscription.Status.CONFIRMED and pending.confirmed_at is not None
    assert gone.status == Subscription.Status.UNSUBSCRIBED


def test_agents_cannot_act(client) -> None:  # type: ignore[no-untyped-def]
    sub = SubscriptionFactory()
    client.force_login(AgentFactory())
    client.post(LIST, {"action": "unsubscribe_selected", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.PENDING
