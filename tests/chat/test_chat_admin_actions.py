"""Supervisors' bulk actions on chats: each chat through its service, one transaction each, one
summary line; and the CSV export (streamed, BOM, formula-safe, constant queries)."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoCaptureOnCommitCallbacks

from chat.models import Chat, ChatEvent
from routing.models import AgentProfile
from tests.factories import (
    PASSWORD,
    AgentFactory,
    ClosedChatFactory,
    CustomerFactory,
    DeliveryFactory,
    RatingFactory,
    SupervisorFactory,
)
from tests.helpers import active_chat, start_chat
from transcripts.models import Delivery

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/chat/chat/"


@pytest.fixture
def supervisor():  # type: ignore[no-untyped-def]
    return SupervisorFactory(first_name="Sue", last_name="Lead")


@pytest.fixture
def client(supervisor) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.login(username=supervisor.username, password=PASSWORD)
    return client


def act(client: Client, action: str, chats: list[Chat], **extra: str):  # type: ignore[no-untyped-def]
    data = {"action": action, "_selected_action": [str(c.pk) for c in chats], **extra}
    if "apply" not in extra:
        data["index"] = "0"
    return client.post(CHANGELIST, data, follow=True)


def summary(response) -> str:  # type: ignore[no-untyped-def]
    return " | ".join(str(m) for m in response.context["messages"])


def online_agent(max_chats: int = 3):  # type: ignore[no-untyped-def]
    agent = AgentFactory(first_name="Oli")
    AgentProfile.objects.create(user=agent, status=AgentProfile.Status.ONLINE, max_chats=max_chats)
    return agent


# --- Close -------------------------------------------------------------------------------------


def test_close_closes_every_open_chat_and_skips_closed_ones(client: Client, supervisor) -> None:  # type: ignore[no-untyped-def]
    chats = [active_chat(), active_chat(), start_chat(), ClosedChatFactory()]

    response = act(client, "close_selected", chats)

    assert summary(response) == "3 closed, 1 skipped: already closed"
    for chat in chats[:3]:
        chat.refresh_from_db()
        assert chat.status == Chat.Status.CLOSED
        assert chat.closed_by_user == supervisor
        assert ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.CLOSED).count() == 1


def test_an_agent_cannot_run_the_actions() -> None:
    chat = active_chat()
    client = Client()
    client.login(username=AgentFactory(is_staff=True).username, password=PASSWORD)
    assert act(client, "close_selected", [chat]).request["PATH_INFO"] == "/admin/login/"
    chat.refresh_from_db()
    assert chat.status == Chat.Status.ACTIVE


# --- Reassign ----------------------------------------------------------------------------------


def test_reassign_asks_for_an_online_agent_on_a_crispy_page(client: Client) -> None:
    online = online_agent()
    offline = AgentFactory()
    AgentProfile.objects.create(user=offline, status=AgentProfile.Status.OFFLINE)
    chat = active_chat()

    response = act(client, "reassign_selected", [chat])

    html = response.content.decode()
    assert f'<option value="{online.pk}">' in html
    assert f'<option value="{offline.pk}">' not in html
    assert 'id="div_id_agent"' in html  # the field's wrapper, rendered by crispy
    assert f'name="_selected_action" value="{chat.pk}"' in html


def test_reassign_hands_over_active_and_assigns_queued_chats(client: Client) -> None:
    target = online_agent()
    active, queued, closed = active_chat(), start_chat(), ClosedChatFactory()
    previous = active.agent

    response = act(
        client,
        "reassign_selected",
        [active, queued, closed],
        agent=str(target.pk),
        apply="Reassign",
    )

    assert summary(response) == "2 reassigned, 1 skipped: already closed"
    active.refresh_from_db()
    queued.refresh_from_db()
    assert active.agent == target and active.transfer_count == 1
    assert active.transfer_note == "Reassigned by Sue Lead"
    assert active.transferred_by == previous
    assert queued.agent == target and queued.status == Chat.Status.ACTIVE


def test_reassign_reports_an_agent_at_capacity(client: Client) -> None:
    target = online_agent(max_chats=1)
    first, second = start_chat(), active_chat()

    response = act(
        client, "reassign_selected", [first, second], agent=str(target.pk), apply="Reassign"
    )

    assert summary(response) == "1 reassigned, 1 skipped: over_capacity"
    first.refresh_from_db()
    second.refresh_from_db()
    assert [first.agent_id, second.agent_id].count(target.pk) == 1


def test_reassign_refuses_an_offline_or_made_up_agent(client: Client) -> None:
    offline = AgentFactory()
    AgentProfile.objects.create(user=offline, status=AgentProfile.Status.OFFLINE)
    chat = active_chat()
    for value in (str(offline.pk), "999999", "1 OR 1=1", ""):
        response = act(client, "reassign_selected", [chat], agent=value, apply="Reassign")
        # The page again, with the error, and nothing changed.
        assert "Select a valid choice" in response.content.decode() or value == ""
        assert response.templates[0].name == "admin/chat/chat/reassign.html"
    chat.refresh_from_db()
    assert chat.transfer_count == 0


# --- Resend transcript -------------------------------------------------------------------------


def closed_chat(consent: bool = True, email: str = "ana@example.com") -> Chat:
    return ClosedChatFactory(customer=CustomerFactory(email=email, consent_transcript=consent))


def test_resend_transcript_requeues_or_creates_deliveries_and_skips_the_rest(
    client: Client, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    sent = DeliveryFactory(chat=closed_chat(), status=Delivery.Status.SENT)
    never = closed_chat()
    no_consent = closed_chat(consent=False)
    open_chat = active_chat()

    with django_capture_on_commit_callbacks() as callbacks:
        response = act(client, "resend_transcript", [sent.chat, never, no_consent, open_chat])

    assert summary(response) == "2 queued, 2 skipped: no transcript consent, not closed"
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.PENDING and "resent by" in sent.last_error
    assert Delivery.objects.filter(chat=never, kind=Delivery.Kind.TRANSCRIPT).count() == 1
    assert not Delivery.objects.filter(chat=no_consent).exists()
    assert len(callbacks) >= 2  # one send task per queued delivery, after commit


# --- CSV ---------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_has_the_columns_and_defuses_formulas(client: Client) -> None:
    chat = ClosedChatFactory(
        customer=CustomerFactory(name='=HYPERLINK("http://evil")', email="@x@example.com"),
        transfer_count=1,
    )
    RatingFactory(chat=chat, score=2)

    response = act(client, "export_csv", [chat])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="chats.csv"' in response["Content-Disposition"]
    header, row = read_csv(response)
    assert header == [
        "id",
        "created",
        "topic",
        "customer name",
        "customer email",
        "agent",
        "status",
        "close reason",
        "wait seconds",
        "duration seconds",
        "rating",
        "transfers",
    ]
    assert row[0] == str(chat.pk)
    assert row[3] == '\'=HYPERLINK("http://evil")'
    assert row[4] == "'@x@example.com"
    assert row[5] == chat.agent.username
    assert row[6] == "closed"
    assert row[10:] == ["2", "1"]


def test_csv_accents_survive(client: Client) -> None:
    chat = ClosedChatFactory(customer=CustomerFactory(name="Zoë Müller-Łukasz"))
    assert read_csv(act(client, "export_csv", [chat]))[1][3] == "Zoë Müller-Łukasz"


def csv_queries(client: Client, chats: list[Chat]) -> int:
    with CaptureQueriesContext(connection) as queries:
        read_csv(act(client, "export_csv", chats))
    return len(queries)


def test_csv_costs_the_same_queries_for_one_chat_and_fifty(client: Client) -> None:
    chats = [ClosedChatFactory(agent=AgentFactory()) for _ in range(50)]
    for chat in chats[::2]:
        RatingFactory(chat=chat)
    assert csv_queries(client, chats[:1]) == csv_queries(client, chats)


def test_ticket_and_rating_exports_share_the_helper(client: Client) -> None:
    from tests.factories import TicketFactory

    ticket = TicketFactory(email="-2+3@example.com")
    rating = RatingFactory(comment="+cmd|' /C calc'!A0")
    tickets = client.post(
        "/admin/helpdesk/ticket/",
        {"action": "export_csv", "index": "0", "_selected_action": [ticket.pk]},
    )
    ratings = client.post(
        "/admin/transcripts/rating/",
        {"action": "export_csv", "index": "0", "_selected_action": [rating.pk]},
    )
    assert read_csv(tickets)[1][3] == "'-2+3@example.com"
    assert read_csv(ratings)[1][5] == "'+cmd|' /C calc'!A0"
