"""Missed replies: an agent's reply a departed customer has not seen for the delay is emailed
once (one email per burst), with a link back into the chat; never to a customer still there,
without an email, or for a closed chat."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.utils import getaddresses
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from chat import services as chat_services
from chat.models import Chat, Message
from chat.selectors import chat_get_by_customer_token
from chat.services import Participant
from tests.factories import AgentFactory, SupervisorFactory
from tests.helpers import active_chat
from transcripts import missed, services, tasks
from transcripts.models import Delivery

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DELAY = 300
ASKED = NOW - timedelta(hours=1)


@pytest.fixture(autouse=True)
def _missed_settings(settings: Any) -> None:
    settings.HELPDESK_MISSED_REPLY_SECONDS = DELAY
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 20
    settings.HELPDESK_PUBLIC_URL = "https://help.example.com/"


def _conversation(*, agent_name: str = "Bob", **kwargs: Any) -> Chat:
    """An active chat whose customer asked at ASKED and was last seen then."""
    chat = active_chat(agent=AgentFactory(first_name=agent_name), **kwargs)
    Message.objects.filter(chat=chat).update(created_at=ASKED)
    Chat.objects.filter(pk=chat.pk).update(created_at=ASKED, customer_last_seen_at=ASKED)
    return Chat.objects.select_related("agent", "customer").get(pk=chat.pk)


def _post(chat: Chat, body: str, *, at: datetime, customer: bool = False, origin: str = "") -> int:
    sender = Participant.customer() if customer else Participant.agent(chat.agent)
    result = chat_services.message_post(chat_id=chat.pk, sender=sender, body=body, origin=origin)
    Message.objects.filter(pk=result.message.pk).update(created_at=at)
    return result.message.seq


def _seen(chat: Chat, at: datetime) -> None:
    Chat.objects.filter(pk=chat.pk).update(customer_last_seen_at=at)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks: Any) -> Callable[..., list[int]]:
    def run(now: datetime = NOW) -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            return missed.missed_reply_sweep(now=now)

    return run


def _missed() -> list[Delivery]:
    return list(Delivery.objects.filter(kind=Delivery.Kind.MISSED_REPLY))


def test_a_reply_unseen_past_the_delay_is_emailed(sweep: Callable[..., list[int]]) -> None:
    chat = _conversation()
    seq = _post(chat, "Your parcel ships tomorrow.", at=NOW - timedelta(seconds=DELAY + 1))

    created = sweep()

    (delivery,) = _missed()
    assert created == [delivery.pk]
    assert (delivery.chat_id, delivery.key, delivery.status) == (chat.pk, str(seq), "sent")
    (sent,) = mail.outbox
    assert sent.to == ["Ana Lima <ana@example.com>"]
    assert sent.subject == "Bob replied to your chat with Acme Help"
    assert sent.extra_headers["Message-ID"] == delivery.message_id
    assert "Your parcel ships tomorrow." in sent.body
    assert "Acme Help" in sent.body
    assert "Bob" in sent.alternatives[0][0]


def test_not_before_the_delay(sweep: Callable[..., list[int]]) -> None:
    chat = _conversation()
    _post(chat, "Checking.", at=NOW - timedelta(seconds=DELAY - 1))

    assert sweep() == []
    assert sweep(NOW + timedelta(seconds=2)) != []
    assert len(mail.outbox) == 1


def test_not_when_the_customer_was_seen_after_the_reply(sweep: Callable[..., list[int]]) -> None:
    chat = _conversation()
    reply_at = NOW - timedelta(seconds=DELAY + 60)
    _post(chat, "Here you go.", at=reply_at)
    _seen(chat, reply_at + timedelta(seconds=30))  # a heartbeat of an open socket, then gone

    assert sweep() == []
    assert mail.outbox == []


def test_sent_when_the_customer_closed_the_tab_just_before_the_reply(
    sweep: Callable[..., list[int]],
) -> None:
    chat = _conversation()
    reply_at = NOW - timedelta(seconds=DELAY + 60)
    _seen(chat, reply_at - timedelta(seconds=6))  # the socket's close, 6 s before the reply
    _post(chat, "Here you go.", at=reply_at)

    assert len(sweep()) == 1


def test_not_while_a_socket_is_open_even_with_a_short_delay(
    settings: Any, sweep: Callable[..., list[int]]
) -> None:
    settings.HELPDESK_MISSED_REPLY_SECONDS = 5
    chat = _conversation()
    _seen(chat, NOW - timedelta(seconds=15))  # the last beat; the next is due in 5 s
    _post(chat, "Quick answer.", at=NOW - timedelta(seconds=10))

    assert sweep() == []


def test_not_when_the_customer_wrote_after_the_reply(sweep: Callable[..., list[int]]) -> None:
    chat = _conversation()
    _post(chat, "Answer.", at=NOW - timedelta(seconds=DELAY + 60))
    _post(chat, "Thanks!", at=NOW - timedelta(seconds=DELAY + 30), customer=True)

    assert sweep() == []


def test_not_without_an_email(sweep: Callable[..., list[int]]) -> None:
    chat = _conversation(email="")
    _post(chat, "Answer.", at=NOW - timedelta(seconds=DELAY + 1))

    assert sweep() == []
    assert _missed() == []


def test_not_for_a_closed_chat(sweep: Callable[..., list[int]]) -> None:
    chat = _conversation()
    _post(chat, "Answer.", at=NOW - timedelta(seconds=DELAY + 1))
    chat_services.chat_close(chat_id=chat.pk, by=Participant.agent(chat.agent))

    assert sweep() == []
    assert _missed() == []


def test_not_for_a_greeting_alone_nor_when_turned_off(
    settings: Any, sweep: Callable[..., list[int]]
) -> None:
    chat = _conversation()
    _post(chat, "Hi, I am Bob.", at=NOW - timedelta(seconds=DELAY + 1), origin="greeting")
    assert sweep() == []

    _post(chat, "Your answer.", at=NOW - timedelta(seconds=DELAY + 1))
    settings.HELPDESK_MISSED_REPLY_SECONDS = 0
    assert sweep() == []


def test_a_burst_of_replies_is_one_email_with_every_reply_since_the_last_question(
    sweep: Callable[..., list[int]],
) -> None:
    chat = _conversation()
    base = NOW - timedelta(seconds=DELAY + 120)
    _post(chat, "Earlier answer.", at=base - timedelta(seconds=60))
    _post(chat, "One more question.", at=base - timedelta(seconds=30), customer=True)
    _seen(chat, base - timedelta(seconds=20))
    _post(chat, "First line.", at=base)
    _post(chat, "Second line.", at=base + timedelta(seconds=10))
    last = _post(chat, "Third line.", at=base + timedelta(seconds=20))
    chat_services.note_add(chat_id=chat.pk, author=chat.agent, body="INTERNAL customer is rude")

    sweep()

    (delivery,) = _missed()
    assert delivery.key == str(last)
    (sent,) = mail.outbox
    html = sent.alternatives[0][0]
    for part in (sent.body, html):
        positions = [part.index(line) for line in ("First line.", "Second line.", "Third line.")]
        assert positions == sorted(positions)
        assert "Earlier answer." not in part
        assert "INTERNAL" not in part


def test_idempotent_sweeps_and_tasks(sweep: Callable[..., list[int]]) -> None:
    chat = _conversation()
    _post(chat, "Answer.", at=NOW - timedelta(seconds=DELAY + 1))

    sweep()
    assert sweep() == []
    (delivery,) = _missed()
    assert tasks.delivery_send.delay(delivery_id=delivery.pk).get() is False
    assert len(mail.outbox) == 1


def test_the_beat_task_twice_sends_one_email(django_capture_on_commit_callbacks: Any) -> None:
    chat = _conversation()
    now = timezone.now()
    _seen(chat, now - timedelta(seconds=DELAY + 60))
    _post(chat, "Answer.", at=now - timedelta(seconds=DELAY + 1))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.missed_reply_sweep.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.missed_reply_sweep.delay().get() == 0
    assert len(mail.outbox) == 1


def test_the_link_opens_the_right_chat(sweep: Callable[..., list[int]]) -> None:
    other = _conversation(email="other@example.com")
    chat = _conversation()
    for each in (other, chat):
        _post(each, "Answer.", at=NOW - timedelta(seconds=DELAY + 1))

    sweep()

    sent = next(m for m in mail.outbox if m.to == ["Ana Lima <ana@example.com>"])
    (link,) = [w for w in sent.body.split() if w.startswith("https://")]
    prefix = "https://help.example.com/chat/#token="
    assert link.startswith(prefix)
    assert f'href="{link}"' in sent.alternatives[0][0]
    opened = chat_get_by_customer_token(token=link.removeprefix(prefix))
    assert opened is not None and opened.pk == chat.pk


def test_message_bodies_are_escaped_in_html(sweep: Callable[..., list[int]]) -> None:
    chat = _conversation()
    _post(chat, '<script>alert("x")</script> & <b>bold</b>', at=NOW - timedelta(seconds=DELAY + 1))

    sweep()

    (sent,) = mail.outbox
    html = sent.alternatives[0][0]
    assert "<script>" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold" in html
    assert '<script>alert("x")</script> & <b>bold</b>' in sent.body


HOSTILE_NAMES = [
    "Eve\r\nBcc: victim@evil.test",
    "Eve\nSubject: free money",
    "Eve\u2028X-Injected: 1",
    "Eve\u202eevil\x1b[31m",
    '"Eve" <boss@evil.test>, other@evil.test',
]
EXPECTED_HEADERS = {"Content-Type", "MIME-Version", "Subject", "From", "To", "Date", "Message-ID"}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_agent_and_customer_names_cannot_add_headers(
    name: str, sweep: Callable[..., list[int]]
) -> None:
    chat = _conversation(agent_name=name, name=name)
    _post(chat, "Answer.", at=NOW - timedelta(seconds=DELAY + 1))

    sweep()

    (sent,) = mail.outbox
    parsed = message_from_bytes(sent.message().as_bytes())
    assert set(parsed.keys()) == EXPECTED_HEADERS
    assert "\n" not in parsed["Subject"].replace("\n ", "")
    assert parsed["Subject"].endswith("replied to your chat with Acme Help")
    assert [address for _, address in getaddresses(parsed.get_all("To"))] == ["ana@example.com"]


def test_an_address_with_control_characters_is_skipped_not_sent(
    sweep: Callable[..., list[int]],
) -> None:
    chat = _conversation()
    chat.customer.email = "ana@example.com\r\nBcc: victim@evil.test"
    chat.customer.save(update_fields=["email"])
    _post(chat, "Answer.", at=NOW - timedelta(seconds=DELAY + 1))

    sweep()

    (delivery,) = _missed()
    assert delivery.status == Delivery.Status.SKIPPED
    assert mail.outbox == []
    assert sweep() == []


def test_a_supervisor_resend_sends_the_same_replies_again(
    sweep: Callable[..., list[int]], django_capture_on_commit_callbacks: Any
) -> None:
    chat = _conversation()
    _post(chat, "Answer.", at=NOW - timedelta(seconds=DELAY + 1))
    sweep()
    (delivery,) = _missed()

    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_resend(delivery_id=delivery.pk, by=SupervisorFactory())

    first, second = mail.outbox
    assert first.body == second.body
