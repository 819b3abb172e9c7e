"""Article titles and excerpts are typed by people: in a bot answer they stay text wherever the
answer is shown (the transcript email's HTML and text, the staff transcript page, the admin's
list of answers, the metrics page). The widget and the console: tests/browser/test_answer_bot.py."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from cannedresponses import answerbot
from chat import services as chat_services
from chat.models import Chat
from helpdesk.models import Topic
from tests.factories import PASSWORD, ArticleFactory, ConsoleSupervisorFactory, SupervisorFactory
from transcripts import emails, selectors

from .support import bot_messages

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("t")</script><img src=x onerror=alert(1)> Return labels'
ESCAPED = "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def answered(topic: Topic, start: Callable[..., Chat]) -> Chat:
    ArticleFactory(
        title=HOSTILE,
        slug="labels",
        body="Print the <b>return</b> label [click](javascript:alert(1)).",
        topic=topic,
    )
    chat = start("How do I print a return label?")
    [answer] = bot_messages(chat)
    assert answer.data["articles"][0]["title"] == HOSTILE  # stored as typed, as data
    # The excerpt is the sanitised rendering's text: no markup, no script link.
    excerpt = answer.data["articles"][0]["excerpt"]
    assert "javascript:" not in excerpt
    assert excerpt.startswith("Print the <b>return</b> label click")
    return chat


def test_the_transcript_email_shows_the_title_as_text(answered: Chat) -> None:
    chat_services.chat_close(chat_id=answered.pk, by=chat_services.Participant.customer())
    text, html = emails.transcript_parts(selectors.transcript_for_customer(chat_id=answered.pk))
    assert ESCAPED in html
    assert "<script>" not in html and "<img" not in html
    # Labelled as automated in both parts.
    assert "<strong>Automated answer</strong>" in html
    assert (
        f"Automated answer: While you wait, this article may answer your question:\n\n• {HOSTILE}"
        in text
    )


def test_the_staff_transcript_page_escapes_and_labels(answered: Chat, client: Client) -> None:
    lead = ConsoleSupervisorFactory()
    client.login(username=lead.username, password=PASSWORD)
    html = client.get(f"/console/chats/{answered.pk}/").content.decode()
    assert ESCAPED in html
    assert HOSTILE not in html
    assert "Bot <span" in html and "automated</span>" in html


def test_the_admin_list_of_answers_escapes(answered: Chat, client: Client) -> None:
    client.force_login(SupervisorFactory())
    response = client.get("/admin/cannedresponses/botanswer/")
    assert response.status_code == 200
    html = response.content.decode()
    assert ESCAPED in html and HOSTILE not in html


def test_the_metrics_page_escapes_rejected_titles(answered: Chat, client: Client) -> None:
    seq = bot_messages(answered)[0].seq
    answerbot.bot_feedback_record(chat_id=answered.pk, message_seq=seq, helpful=False)
    client.force_login(SupervisorFactory())
    response = client.get("/admin/metrics/", {"group_by": "topic"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="metrics-bot-rejected"' in html
    assert ESCAPED in html and HOSTILE not in html


def test_the_wire_carries_the_title_as_a_json_string(answered: Chat) -> None:
    from chat import protocol

    frame = protocol.message_frame(bot_messages(answered)[0], customer_name="Ana")
    # Data, not markup: clients put it in the page as text (static/chat/bot.js).
    article: dict[str, Any] = frame["bot"]["articles"][0]
    assert article["title"] == HOSTILE
    assert article["url"] == "https://help.example.com/help/labels/"
