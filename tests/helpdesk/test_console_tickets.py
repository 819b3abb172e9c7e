"""The console's ticket pages: agents list the messages customers left, read one with the chat
it came from, answer it by email and close it. Login required, agents only, CSRF on."""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from helpdesk.models import Ticket, TicketReply
from tests.factories import (
    PASSWORD,
    AgentFactory,
    SupervisorFactory,
    TicketFactory,
    TicketReplyFactory,
    TopicFactory,
    UserFactory,
)
from tests.helpers import start_chat

pytestmark = pytest.mark.django_db

LIST_URL = "/console/tickets/"


def detail_url(ticket: Ticket) -> str:
    return f"/console/tickets/{ticket.pk}/"


def close_url(ticket: Ticket) -> str:
    return f"/console/tickets/{ticket.pk}/close/"


@pytest.fixture(autouse=True)
def _eager_celery(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def agent():
    return AgentFactory(first_name="Alice", last_name="Agent")


@pytest.fixture
def agent_client(agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def csrf_client(agent) -> Client:
    """A browser-like client: CSRF is checked, as in production."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    return client


def csrf_token(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


# --- Who may see them ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["list", "detail", "close"])
def test_anonymous_visitors_are_sent_to_log_in(client, path: str) -> None:
    ticket = TicketFactory()
    url = {"list": LIST_URL, "detail": detail_url(ticket), "close": close_url(ticket)}[path]
    response = client.post(url) if path == "close" else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("make_user", [UserFactory, SupervisorFactory], ids=["user", "supervisor"])
@pytest.mark.parametrize("path", ["list", "detail", "reply", "close"])
def test_non_agents_are_forbidden(client, make_user, path: str) -> None:
    ticket = TicketFactory()
    client.force_login(make_user())
    if path == "list":
        response = client.get(LIST_URL)
    elif path == "detail":
        response = client.get(detail_url(ticket))
    elif path == "reply":
        response = client.post(detail_url(ticket), {"body": "Hi"})
    else:
        response = client.post(close_url(ticket))
    assert response.status_code == 403
    assert not TicketReply.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN


def test_an_inactive_agent_cannot_log_in_to_them(client) -> None:
    agent = AgentFactory(is_active=False)
    assert not client.login(username=agent.username, password=PASSWORD)
    assert client.get(LIST_URL).status_code == 302


# --- The list ----------------------------------------------------------------------------------


def test_open_tickets_newest_first(agent_client) -> None:
    older = TicketFactory(body="Older message")
    newer = TicketFactory(body="Newer message")
    TicketFactory(status=Ticket.Status.ANSWERED, body="Answered one")
    TicketFactory(status=Ticket.Status.CLOSED, body="Closed one")

    page = agent_client.get(LIST_URL)

    assert page.status_code == 200
    assert list(page.context["tickets"]) == [newer, older]
    html = page.content.decode()
    assert html.index(newer.reference) < html.index(older.reference)
    assert "Answered one" not in html
    assert "2 open" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [("?status=answered", "answered"), ("?status=closed", "closed"), ("?status=<x>", "open")],
)
def test_other_statuses_by_choice(agent_client, query: str, expected: str) -> None:
    for status in Ticket.Status.values:
        TicketFactory(status=status, body=f"{status} ticket")
    page = agent_client.get(LIST_URL + query)
    assert page.status_code == 200
    assert [t.status for t in page.context["tickets"]] == [expected]


@pytest.mark.parametrize("count", [1, 12])
def test_the_list_costs_the_same_queries_whatever_its_length(
    agent_client, count: int, django_assert_num_queries
) -> None:
    topics = [TopicFactory() for _ in range(3)]
    for index in range(count):
        TicketFactory(topic=topics[index % 3])
    # session, user, agent check, the tickets (with topic and customer), the open count
    with django_assert_num_queries(5):
        page = agent_client.get(LIST_URL)
    assert len(page.context["tickets"]) == count


def test_html_in_a_ticket_is_shown_as_text(agent_client) -> None:
    TicketFactory(body="<script>alert('x')</script>", customer__name="<b>Eve</b>")
    html = agent_client.get(LIST_URL).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "<b>Eve</b>" not in html


# --- One ticket ---------------------------------------------------------------------------------


def test_a_ticket_from_a_chat_shows_the_chat_before_it(agent_client) -> None:
    chat = start_chat(message="Is anyone there? <i>hello</i>")
    ticket = TicketFactory(chat=chat, customer=chat.customer, body="Call me back please.")

    page = agent_client.get(detail_url(ticket))

    assert page.status_code == 200
    html = page.content.decode()
    assert ticket.reference in html
    assert "Call me back please." in html
    assert "Is anyone there? &lt;i&gt;hello&lt;/i&gt;" in html
    assert [m.seq for m in page.context["transcript"]] == [1, 2]


def test_a_ticket_from_the_form_says_there_was_no_chat(agent_client) -> None:
    page = agent_client.get(detail_url(TicketFactory()))
    assert page.context["transcript"] == []
    assert "not from a chat" in page.content.decode()


def test_the_detail_page_costs_the_same_queries_whatever_the_history(agent_client) -> None:
    def queries_for(replies: int, messages: str) -> int:
        chat = start_chat(message=messages)
        ticket = TicketFactory(chat=chat, customer=chat.customer)
        for _ in range(replies):
            TicketReplyFactory(ticket=ticket)
        with CaptureQueriesContext(connection) as captured:
            assert agent_client.get(detail_url(ticket)).status_code == 200
        return len(captured)

    assert queries_for(1, "short") == queries_for(8, "a longer question")


def test_a_missing_ticket_is_404(agent_client) -> None:
    assert agent_client.get("/console/tickets/999999/").status_code == 404
    assert agent_client.post("/console/tickets/999999/close/").status_code == 404
    assert agent_client.get("/console/tickets/not-a-number/").status_code == 404


# --- Answering by email -------------------------------------------------------------------------


def test_an_answer_is_stored_and_emailed_to_the_customer(
    csrf_client, agent, django_capture_on_commit_callbacks
) -> None:
    ticket = TicketFactory(email="ana@example.com", customer__name="Ana Lima")
    token = csrf_token(csrf_client, detail_url(ticket))

    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_client.post(
            detail_url(ticket),
            {"body": "Your parcel ships tomorrow.", "csrfmiddlewaretoken": token},
        )

    assert response.status_code == 302
    assert response["Location"] == detail_url(ticket)
    reply = TicketReply.objects.get()
    assert (reply.author, reply.body) == (agent, "Your parcel ships tomorrow.")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ANSWERED
    [sent] = mail.outbox
    assert sent.to == ["ana@example.com"]
    assert ticket.reference in sent.subject
    assert "Your parcel ships tomorrow." in sent.body
    follow = csrf_client.get(detail_url(ticket)).content.decode()
    assert "is on its way" in follow
    assert "emailed" in follow


def test_the_answer_goes_through_the_configured_email_backend(
    agent_client, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    """The embedded default writes mails to a folder: the file is really there."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    ticket = TicketFactory(email="bea@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(detail_url(ticket), {"body": "Answered from the console."})
    [written] = list(tmp_path.iterdir())
    content = written.read_text()
    assert "To: bea@example.com" in content
    assert ticket.reference in content
    assert "Answered from the console." in content


def test_posting_without_the_csrf_token_is_refused(csrf_client) -> None:
    ticket = TicketFactory()
    assert csrf_client.post(detail_url(ticket), {"body": "Hi"}).status_code == 403
    assert csrf_client.post(close_url(ticket)).status_code == 403
    assert not TicketReply.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "This field is required."),
        ("   ", "A message cannot be empty."),
        ("x" * 4001, "at most 4000 characters"),
        ("nul\x00", "Null characters are not allowed."),
    ],
    ids=["missing", "blanks", "oversize", "nul"],
)
def test_a_bad_answer_is_shown_back_and_not_sent(agent_client, body: str, message: str) -> None:
    ticket = TicketFactory()
    response = agent_client.post(detail_url(ticket), {"body": body})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TicketReply.objects.exists()
    assert mail.outbox == []


def test_an_html_answer_is_sent_as_typed(agent_client, django_capture_on_commit_callbacks) -> None:
    ticket = TicketFactory()
    body = "Use <b>this</b> link & that one"
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(detail_url(ticket), {"body": body})
    assert body in mail.outbox[0].body
    assert "&lt;b&gt;this&lt;/b&gt;" in agent_client.get(detail_url(ticket)).content.decode()


def test_a_closed_ticket_takes_no_answer(agent_client) -> None:
    ticket = TicketFactory(status=Ticket.Status.CLOSED)
    response = agent_client.post(detail_url(ticket), {"body": "Hello?"})
    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert not TicketReply.objects.exists()


# --- Closing ------------------------------------------------------------------------------------


def test_closing_a_ticket(csrf_client) -> None:
    ticket = TicketFactory()
    token = csrf_token(csrf_client, detail_url(ticket))
    response = csrf_client.post(close_url(ticket), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.CLOSED
    # Twice (a double click): a message, no error page.
    again = csrf_client.post(close_url(ticket), {"csrfmiddlewaretoken": token}, follow=True)
    assert again.status_code == 200
    assert "already closed" in again.content.decode()


def test_closing_needs_a_post(agent_client) -> None:
    ticket = TicketFactory()
    assert agent_client.get(close_url(ticket)).status_code == 405
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN


# --- The console links to them ----------------------------------------------------------------


def test_the_console_header_counts_the_open_tickets(agent_client) -> None:
    TicketFactory.create_batch(3)
    TicketFactory(status=Ticket.Status.ANSWERED)
    html = agent_client.get("/console/").content.decode()
    assert 'href="/console/tickets/"' in html
    assert "Tickets (3 open)" in html


# --- Supervisors' admin -----------------------------------------------------------------------


def test_supervisors_search_and_filter_tickets_in_the_admin(client) -> None:
    client.force_login(SupervisorFactory())
    wanted = TicketFactory(email="findme@example.com")
    TicketFactory(email="other@example.com", status=Ticket.Status.CLOSED)

    by_email = client.get("/admin/helpdesk/ticket/", {"q": "findme"})
    assert by_email.status_code == 200
    assert list(by_email.context["cl"].result_list) == [wanted]
    by_reference = client.get("/admin/helpdesk/ticket/", {"q": wanted.reference})
    assert list(by_reference.context["cl"].result_list) == [wanted]
    closed = client.get("/admin/helpdesk/ticket/", {"status__exact": "closed"})
    assert [t.email for t in closed.context["cl"].result_list] == ["other@example.com"]
    assert client.get(f"/admin/helpdesk/ticket/{wanted.pk}/change/").status_code == 200


def test_supervisors_cannot_change_tickets_in_the_admin(client) -> None:
    client.force_login(SupervisorFactory())
    ticket = TicketFactory()
    client.post(f"/admin/helpdesk/ticket/{ticket.pk}/change/", {"status": "closed"})
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN
    assert client.get("/admin/helpdesk/ticket/add/").status_code == 403
