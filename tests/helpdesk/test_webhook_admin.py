"""Webhooks in the supervisors' admin: subscriptions (events as checkboxes, hostile input
refused, the secret shown, a test ping, re-enabling a disabled one, flagged in the list) and
the read-only delivery log with its redeliver action. Agents are refused."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpdesk import webhook_http
from helpdesk.models import WebhookDelivery, WebhookSubscription
from helpdesk.webhook_http import HttpResult
from tests.changelist import changelist_rows
from tests.factories import (
    AgentFactory,
    SupervisorFactory,
    WebhookDeliveryFactory,
    WebhookSubscriptionFactory,
)
from tests.webhook_receiver import record_queue

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/admin/helpdesk/webhooksubscription/"
DELIVERIES = "/admin/helpdesk/webhookdelivery/"


@pytest.fixture
def lead(client):  # type: ignore[no-untyped-def]
    user = SupervisorFactory(username="maria")
    client.force_login(user)
    return user


@pytest.fixture
def posts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The network, answering 200 to everything (eager Celery sends inline)."""
    calls: list[dict[str, Any]] = []

    def post(**kwargs: Any) -> HttpResult:
        calls.append(kwargs)
        return HttpResult(status=200)

    monkeypatch.setattr(webhook_http, "post", post)
    return calls


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "CRM",
        "url": "https://crm.example.com/hooks/helpdesk",
        "events": ["chat.closed", "chat.created"],
        "is_active": "on",
    }
    data.update(changes)
    return data


def test_agents_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    subscription = WebhookSubscriptionFactory()
    delivery = WebhookDeliveryFactory(subscription=subscription)
    client.force_login(AgentFactory(is_staff=True))
    for url in (
        SUBSCRIPTIONS,
        f"{SUBSCRIPTIONS}add/",
        f"{SUBSCRIPTIONS}{subscription.pk}/change/",
        DELIVERIES,
        f"{DELIVERIES}{delivery.pk}/change/",
    ):
        assert client.get(url)["Location"].startswith("/admin/login/"), url
    client.post(SUBSCRIPTIONS, {"action": "send_test_ping", "_selected_action": [subscription.pk]})
    client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]})
    client.post(f"{SUBSCRIPTIONS}add/", _form())
    assert WebhookDelivery.objects.count() == 1
    assert WebhookSubscription.objects.count() == 1
    # The page of a subscription (with its secret) is not theirs to read.
    assert (
        subscription.secret
        not in client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").content.decode()
    )


def test_a_supervisor_adds_a_subscription_with_checkboxes(client, lead) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"{SUBSCRIPTIONS}add/").content.decode()
    assert 'type="checkbox" name="events" value="rating.received"' in page

    response = client.post(f"{SUBSCRIPTIONS}add/", _form())
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = WebhookSubscription.objects.get()
    # Stored in the catalogue's order whatever was ticked first.
    assert subscription.events == ["chat.created", "chat.closed"]
    assert subscription.secret.startswith("whsec_") and len(subscription.secret) == 70
    assert subscription.created_by == lead
    # The secret is shown on its page, for the receiver.
    page = client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").content.decode()
    assert subscription.secret in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"events": []}, "This field is required"),
        ({"events": ["chat.deleted"]}, "Select a valid choice"),
        ({"events": ["ping"]}, "Select a valid choice"),
        ({"url": "ftp://crm.example.com/x"}, "Only http:// and https://"),
        ({"url": "javascript:alert(1)"}, "Only http:// and https://"),
        ({"url": "https://admin:secret@crm.example.com/"}, "Leave user names and passwords"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "Private and local addresses"),
        ({"url": "http://localhost:9000/"}, "Local addresses"),
        ({"url": "https://crm.example.com/" + "a" * 600}, "at most"),
        ({"url": ""}, "This field is required"),
        ({"name": ""}, "This field is required"),
        ({"name": "x" * 101}, "at most 100"),
    ],
)
def test_hostile_input_is_refused(client, lead, settings, changes, error) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_ALLOW_PRIVATE = False
    response = client.post(f"{SUBSCRIPTIONS}add/", _form(**changes))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_the_model_refuses_unknown_events_whatever_the_form() -> None:
    from django.core.exceptions import ValidationError

    for events in (["chat.deleted"], "chat.created", [1], [], ["chat.created", "chat.created"]):
        subscription = WebhookSubscriptionFactory.build(events=events)
        with pytest.raises(ValidationError):
            subscription.full_clean()


def test_the_list_flags_disabled_subscriptions(client, lead) -> None:  # type: ignore[no-untyped-def]
    WebhookSubscriptionFactory(name="Healthy")
    WebhookSubscriptionFactory(name="Paused", is_active=False)
    WebhookSubscriptionFactory(
        name="<b>Broken</b>",
        is_active=False,
        failure_streak=10,
        disabled_at=timezone.now(),
        disabled_reason="10 deliveries in a row failed; the last: HTTP 500",
    )
    rows = {row["name"]: row for row in changelist_rows(client.get(SUBSCRIPTIONS).content.decode())}
    assert rows["Healthy"]["state"] == "Active"
    assert rows["Paused"]["state"] == "Paused"
    assert rows["<b>Broken</b>"]["state"].startswith("Disabled after failures")
    html = client.get(SUBSCRIPTIONS).content.decode()
    assert "the last: HTTP 500" in html
    assert "&lt;b&gt;Broken" in html and "<b>Broken" not in html

    flagged = changelist_rows(client.get(SUBSCRIPTIONS + "?flagged=yes").content.decode())
    assert [row["name"] for row in flagged] == ["<b>Broken</b>"]


@pytest.mark.django_db(transaction=True)
def test_a_test_ping_is_sent_and_reported(client, lead, posts, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_TASK_ALWAYS_EAGER = True  # whatever broker the environment names
    subscription = WebhookSubscriptionFactory(name="CRM", is_active=False)
    # Eager Celery and real commits, as on the embedded defaults: the ping goes out when the
    # action's transaction commits, before the page says how it went.
    response = client.post(
        SUBSCRIPTIONS,
        {"action": "send_test_ping", "_selected_action": [subscription.pk]},
        follow=True,
    )
    assert "CRM: ping delivered (HTTP 200)." in response.content.decode()
    [call] = posts
    assert call["headers"]["X-Helpdesk-Event"] == "ping"
    ping = WebhookDelivery.objects.get()
    assert ping.payload["by"]["username"] == "maria"


def test_a_disabled_subscription_is_reenabled(client, lead) -> None:  # type: ignore[no-untyped-def]
    subscription = WebhookSubscriptionFactory(
        is_active=False, failure_streak=10, disabled_at=timezone.now(), disabled_reason="x"
    )
    response = client.post(
        SUBSCRIPTIONS, {"action": "reenable", "_selected_action": [subscription.pk]}, follow=True
    )
    assert "1 subscription(s) re-enabled." in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.disabled_at is None
    assert subscription.failure_streak == 0


def test_deliveries_are_read_only(client, lead) -> None:  # type: ignore[no-untyped-def]
    delivery = WebhookDeliveryFactory(payload={"message": {"body": "<script>alert(1)</script>"}})
    assert client.get(f"{DELIVERIES}add/").status_code == 403
    page = client.get(f"{DELIVERIES}{delivery.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    client.post(f"{DELIVERIES}{delivery.pk}/change/", {"event": "chat.closed"})
    client.post(
        DELIVERIES, {"action": "delete_selected", "_selected_action": [delivery.pk], "post": "yes"}
    )
    delivery.refresh_from_db()
    assert delivery.event == "chat.created"


def test_the_log_filters_by_status_event_and_subscription(client, lead) -> None:  # type: ignore[no-untyped-def]
    crm = WebhookSubscriptionFactory(name="CRM")
    WebhookDeliveryFactory(
        subscription=crm, event="chat.closed", status="failed", response_code=500
    )
    WebhookDeliveryFactory(event="chat.created", status="delivered", response_code=200)

    def shown(query: str) -> list[tuple[str, str]]:
        rows = changelist_rows(client.get(DELIVERIES + query).content.decode())
        return [(row["event"], row["response_code"]) for row in rows]

    assert sorted(shown("")) == [("chat.closed", "500"), ("chat.created", "200")]
    assert shown("?status__exact=failed") == [("chat.closed", "500")]
    assert shown("?event=chat.created") == [("chat.created", "200")]
    assert shown(f"?subscription__id__exact={crm.pk}") == [("chat.closed", "500")]


def test_the_log_costs_the_same_queries_for_1_and_20_rows(client, lead) -> None:  # type: ignore[no-untyped-def]
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(DELIVERIES).status_code == 200
        return len(ctx.captured_queries)

    WebhookDeliveryFactory()
    one = queries()
    for _ in range(19):
        WebhookDeliveryFactory()
    assert queries() == one


def test_redeliver_queues_failed_deliveries_again(
    client, lead, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    queued = record_queue(monkeypatch)
    failed = WebhookDeliveryFactory(status="failed", attempts=6, next_attempt_at=None)
    off = WebhookDeliveryFactory(
        subscription=WebhookSubscriptionFactory(is_active=False), status="failed"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            DELIVERIES,
            {"action": "redeliver", "_selected_action": [failed.pk, off.pk]},
            follow=True,
        )
    assert "1 delivery(ies) queued again, 1 skipped" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "pending" and failed.attempts == 0
    assert queued == [failed.pk]


def test_a_supervisor_edits_the_events_and_the_secret_stays(client, lead) -> None:  # type: ignore[no-untyped-def]
    subscription = WebhookSubscriptionFactory(events=["chat.created"])
    secret = subscription.secret
    page = client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").content.decode()
    assert 'value="chat.created" id="id_events_0" checked' in page
    response = client.post(
        f"{SUBSCRIPTIONS}{subscription.pk}/change/",
        _form(events=["ticket.created", "rating.received"], secret="whsec_mine"),
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.events == ["rating.received", "ticket.created"]
    assert subscription.secret == secret  # shown, never set from the form
