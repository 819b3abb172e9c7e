"""Tickets: a message a customer leaves is stored, confirmed by email with its reference, and
answered by an agent by email; the emails leave after commit, through Celery, once."""

import re
from datetime import UTC, datetime, time

import pytest
from django.core import mail
from django.db import transaction

from helpdesk import services, tasks
from helpdesk.errors import EmailInvalid, Forbidden, InvalidInput, TicketClosed, TopicClosed
from helpdesk.models import TICKET_REFERENCE_ALPHABET, Customer, Ticket, TicketReply
from tests.factories import (
    AgentFactory,
    BusinessHoursFactory,
    CustomerFactory,
    TicketFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REFERENCE = re.compile(rf"HD-[{TICKET_REFERENCE_ALPHABET}]{{6}}")


@pytest.fixture(autouse=True)
def _eager_celery(settings) -> None:
    # Whatever broker the environment names, run the email tasks inline.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def leave(**overrides):
    fields = {
        "topic": TopicFactory(name="Returns"),
        "name": "Ana Lima",
        "email": "Ana@Example.com ",
        "body": "My parcel never came.",
        **overrides,
    }
    return services.ticket_create(**fields)


# --- Leaving a message ------------------------------------------------------------------------


def test_a_message_becomes_an_open_ticket_with_a_readable_reference(committed) -> None:
    with committed():
        ticket = leave()
    ticket.refresh_from_db()
    assert REFERENCE.fullmatch(ticket.reference)
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.email == "ana@example.com"
    assert ticket.body == "My parcel never came."
    assert ticket.customer.name == "Ana Lima"
    assert ticket.customer.email == "ana@example.com"
    assert ticket.chat is None
    assert ticket.answered_at is None


def test_the_customer_is_emailed_the_reference_after_commit(committed) -> None:
    with committed():
        ticket = leave()
        assert mail.outbox == []  # nothing before the commit
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ana@example.com"]
    assert ticket.reference in sent.subject
    assert ticket.reference in sent.body
    assert "My parcel never came." in sent.body
    assert sent.extra_headers["Message-ID"].startswith(f"<helpdesk-ticket-{ticket.pk}@")
    ticket.refresh_from_db()
    assert ticket.confirmation_sent_at is not None


def test_a_rolled_back_message_sends_nothing(committed) -> None:
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        leave()
        raise RuntimeError("the caller failed")
    assert mail.outbox == []
    assert not Ticket.objects.exists()


def test_the_confirmation_is_sent_once_however_often_the_task_runs(committed) -> None:
    with committed():
        ticket = leave()
    assert tasks.send_ticket_confirmation(ticket_id=ticket.pk) is False
    assert tasks.send_ticket_confirmation(ticket_id=999_999) is False
    assert len(mail.outbox) == 1


def test_html_in_a_message_is_kept_as_text_everywhere(committed) -> None:
    body = '<script>alert("x")</script> & <b>bold</b>'
    with committed():
        ticket = leave(body=body)
    assert Ticket.objects.get(pk=ticket.pk).body == body
    # A text email: the customer reads exactly what they wrote, not entities.
    assert body in mail.outbox[0].body


def test_references_are_unique_and_a_clash_is_retried(monkeypatch) -> None:
    taken = TicketFactory().reference
    fresh = iter([taken, taken, "HD-ZZZZZZ"])
    monkeypatch.setattr(services, "new_ticket_reference", lambda: next(fresh))
    assert leave().reference == "HD-ZZZZZZ"
    assert Ticket.objects.filter(reference=taken).count() == 1


def test_many_references_do_not_repeat() -> None:
    references = {leave(email=f"c{n}@example.com").reference for n in range(30)}
    assert len(references) == 30


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "body_empty"),
        ("   \n\t ", "body_empty"),
        ("a\x00b", "body_invalid"),
        ("\ud800", "body_invalid"),
        ("x" * 4001, "body_too_long"),
    ],
    ids=["empty", "blanks", "nul", "lone-surrogate", "4001-chars"],
)
def test_the_message_rules_of_the_chat_apply(body: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        leave(body=body)
    assert error.value.code == code
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()


def test_a_message_of_exactly_4000_characters_is_fine() -> None:
    assert len(leave(body="y" * 4000).body) == 4000


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "not-an-email",
        "a@b",
        "ana@example.com\nBcc: everyone@example.com",
        "x" * 250 + "@example.com",
    ],
    ids=["empty", "blank", "no-at", "no-tld", "header-injection", "too-long"],
)
def test_a_valid_email_is_required_since_answers_go_by_email(email: str) -> None:
    with pytest.raises(EmailInvalid) as error:
        leave(email=email)
    assert error.value.code == "email_invalid"
    assert not Ticket.objects.exists()


def test_a_ticket_for_an_existing_customer_keeps_their_record() -> None:
    customer = CustomerFactory(name="Bea", email="")
    ticket = leave(customer=customer, email="bea@example.com", name="ignored")
    assert ticket.customer == customer
    assert ticket.email == "bea@example.com"
    assert Customer.objects.count() == 1


# --- Answering --------------------------------------------------------------------------------


def test_an_agent_answers_and_the_customer_gets_the_answer_by_email(committed) -> None:
    agent = AgentFactory(first_name="Alice", last_name="Agent")
    ticket = leave()
    with committed():
        reply = services.ticket_reply(ticket_id=ticket.pk, author=agent, body="It is on its way.")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ANSWERED
    assert ticket.answered_at is not None
    assert reply.author == agent
    sent = mail.outbox[-1]
    assert sent.to == ["ana@example.com"]
    assert sent.subject == f"Re: your message [{ticket.reference}]"
    assert "It is on its way." in sent.body
    assert "Alice" in sent.body
    assert "Agent" not in sent.body.replace("Alice", "")  # first name only, as in the chat
    assert sent.extra_headers["Message-ID"].startswith(f"<helpdesk-reply-{reply.pk}@")
    reply.refresh_from_db()
    assert reply.sent_at is not None


def test_a_reply_is_emailed_once_however_often_the_task_runs(committed) -> None:
    ticket = leave()
    with committed():
        reply = services.ticket_reply(ticket_id=ticket.pk, author=AgentFactory(), body="Hi")
    outbox = len(mail.outbox)
    assert tasks.send_ticket_reply(reply_id=reply.pk) is False
    assert tasks.send_ticket_reply(reply_id=999_999) is False
    assert len(mail.outbox) == outbox


def test_an_answered_ticket_can_be_answered_again() -> None:
    ticket = leave()
    agent = AgentFactory()
    services.ticket_reply(ticket_id=ticket.pk, author=agent, body="First")
    services.ticket_reply(ticket_id=ticket.pk, author=agent, body="Second")
    assert TicketReply.objects.filter(ticket=ticket).count() == 2


@pytest.mark.parametrize("who", ["customer-user", "inactive-agent", "supervisor-only"])
def test_only_agents_answer(who: str) -> None:
    from tests.factories import SupervisorFactory

    user = {
        "customer-user": UserFactory,
        "inactive-agent": lambda: AgentFactory(is_active=False),
        "supervisor-only": SupervisorFactory,
    }[who]()
    ticket = leave()
    with pytest.raises(Forbidden):
        services.ticket_reply(ticket_id=ticket.pk, author=user, body="Hello")
    assert not TicketReply.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN


def test_an_empty_or_oversize_answer_is_refused() -> None:
    ticket = leave()
    for body, code in [
        (" ", "body_empty"),
        ("z" * 4001, "body_too_long"),
        ("\x00", "body_invalid"),
    ]:
        with pytest.raises(InvalidInput) as error:
            services.ticket_reply(ticket_id=ticket.pk, author=AgentFactory(), body=body)
        assert error.value.code == code
    assert not TicketReply.objects.exists()


def test_answering_a_missing_ticket_is_not_found() -> None:
    with pytest.raises(services.NotFound):
        services.ticket_reply(ticket_id=424242, author=AgentFactory(), body="Hi")


# --- Closing ----------------------------------------------------------------------------------


def test_an_agent_closes_a_ticket_and_it_takes_no_more_answers() -> None:
    ticket = leave()
    agent = AgentFactory()
    closed = services.ticket_close(ticket_id=ticket.pk, by=agent)
    assert closed.status == Ticket.Status.CLOSED
    assert closed.closed_at is not None
    with pytest.raises(TicketClosed):
        services.ticket_close(ticket_id=ticket.pk, by=agent)
    with pytest.raises(TicketClosed):
        services.ticket_reply(ticket_id=ticket.pk, author=agent, body="Too late")


def test_only_agents_close() -> None:
    ticket = leave()
    with pytest.raises(Forbidden):
        services.ticket_close(ticket_id=ticket.pk, by=UserFactory())
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN


# --- A chat can start only within business hours ------------------------------------------------


def test_a_closed_topic_refuses_a_chat_and_says_when_it_opens() -> None:
    topic = TopicFactory(timezone="Europe/London")
    BusinessHoursFactory(topic=topic, weekday=0, opens=time(9), closes=time(17))
    sunday = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    with pytest.raises(TopicClosed) as error:
        services.topic_ensure_open(topic=topic, at=sunday)
    assert error.value.status == 409
    assert error.value.extra() == {"opens_at": "2026-03-30T09:00:00+01:00"}
    services.topic_ensure_open(topic=topic, at=datetime(2026, 3, 30, 8, 0, tzinfo=UTC))
