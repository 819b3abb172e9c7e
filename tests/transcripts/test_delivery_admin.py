"""Supervisors list deliveries in the admin (filters kind/status, search by address), read them
without editing, and resend selected ones through the service; the changelist's queries do
not grow with its rows."""

from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AgentFactory, DeliveryFactory, SupervisorFactory, UserFactory
from transcripts import emails
from transcripts.models import Delivery

pytestmark = pytest.mark.django_db

LIST = "/admin/transcripts/delivery/"


@pytest.fixture
def lead(client):  # type: ignore[no-untyped-def]
    user = SupervisorFactory(username="lead")
    client.force_login(user)
    return user


def test_the_list_its_filters_and_search(client, lead) -> None:  # type: ignore[no-untyped-def]
    failed = DeliveryFactory(
        status=Delivery.Status.FAILED,
        to_email="ana@example.com",
        last_error="attempt 1 failed\nattempt 2 failed: <script>x()</script>",
    )
    sent = DeliveryFactory(status=Delivery.Status.SENT, to_email="bo@example.com")
    html = client.get(LIST).content.decode()
    assert f'href="/admin/chat/chat/{failed.chat_id}/change/"' in html
    assert "attempt 2 failed: &lt;script&gt;" in html and "<script>x()" not in html
    for query, shown in [("?status=failed", failed), ("?status=sent", sent), ("?q=BO@", sent)]:
        assert list(client.get(LIST + query).context["cl"].result_list) == [shown], query
    assert list(client.get(LIST + "?kind=offer").context["cl"].result_list) == []


def test_read_only_for_everyone(client, lead) -> None:  # type: ignore[no-untyped-def]
    delivery = DeliveryFactory()
    assert client.get(LIST + "add/").status_code == 403
    page = client.get(f"{LIST}{delivery.pk}/change/")
    assert page.status_code == 200 and b'name="to_email"' not in page.content
    assert client.post(f"{LIST}{delivery.pk}/change/", {"to_email": "x@y.z"}).status_code == 403
    assert client.post(f"{LIST}{delivery.pk}/delete/", {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("user", [AgentFactory, lambda: UserFactory(is_staff=True)])
def test_only_supervisors_see_it(client, user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user())
    assert client.get(LIST).status_code in (302, 403)


def test_resend_selected_through_the_service(  # type: ignore[no-untyped-def]
    client, lead, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A kind with no email built yet is refused with a message; the others are sent.
    monkeypatch.setattr(emails, "BUILDERS", {Delivery.Kind.TRANSCRIPT: emails.transcript_email})
    failed = DeliveryFactory(status=Delivery.Status.FAILED)
    missed = DeliveryFactory(kind=Delivery.Kind.MISSED_REPLY, status=Delivery.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            LIST,
            {"action": "resend_selected", "_selected_action": [failed.pk, missed.pk]},
            follow=True,
        )
    notes = [str(m) for m in response.context["messages"]]
    assert f"Delivery {missed.pk} not resent: Missed reply emails cannot be sent yet." in notes
    assert "Queued 1 delivery to send again." in notes
    failed.refresh_from_db()
    missed.refresh_from_db()
    assert failed.status == Delivery.Status.SENT and "resent by lead" in failed.last_error
    assert missed.status == Delivery.Status.FAILED
    assert len(mail.outbox) == 1


def test_the_changelist_queries_do_not_grow_with_rows(client, lead) -> None:  # type: ignore[no-untyped-def]
    DeliveryFactory.create_batch(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    DeliveryFactory.create_batch(8)
    with CaptureQueriesContext(connection) as many:
        assert client.get(LIST).status_code == 200
    assert len(many) == len(few)
