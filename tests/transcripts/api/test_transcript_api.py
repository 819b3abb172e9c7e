"""GET /api/v1/chats/<id>/transcript.html, .txt and /transcript/?format=: the customer's email's
bodies (never the internal notes) for a chat the token's user may open in the console, open
or closed; errors are the API's JSON."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.models import Chat
from chat.services import Participant
from tests.api_support import assert_error, client_for, fresh_cache
from tests.factories import AgentFactory, SupervisorFactory
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script> & my <b>lamp</b>"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


@pytest.fixture
def chat() -> Chat:
    chat = active_chat(name="Ana Lima", message=HOSTILE)
    services.note_add(chat_id=chat.pk, author=chat.agent, body="SECRET internal note")
    return chat


def _urls(chat: Chat) -> dict[str, str]:
    base = f"/api/v1/chats/{chat.pk}/transcript"
    return {
        "html": f"{base}.html",
        "txt": f"{base}.txt",
        "query-html": f"{base}/?format=html",
        "query-txt": f"{base}/?format=txt",
        "default": f"{base}/",
    }


@pytest.mark.parametrize(
    ("which", "content_type"),
    [
        ("html", "text/html; charset=utf-8"),
        ("txt", "text/plain; charset=utf-8"),
        ("query-html", "text/html; charset=utf-8"),
        ("query-txt", "text/plain; charset=utf-8"),
        ("default", "text/html; charset=utf-8"),
    ],
)
def test_the_chats_agent_reads_it_open_or_closed(chat: Chat, which: str, content_type: str) -> None:
    client = client_for(chat.agent)
    url = _urls(chat)[which]

    open_response = client.get(url)
    services.chat_close(chat_id=chat.pk, by=Participant.customer())
    closed_response = client.get(url)

    for response in (open_response, closed_response):
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == content_type
        assert "no-store" in response["Cache-Control"]
        assert f"transcript-chat-{chat.pk}-" in response["Content-Disposition"]
        assert "SECRET" not in response.content.decode()
    assert "lamp" in open_response.content.decode()  # the customer's first message


def test_the_html_escapes_what_the_customer_typed(chat: Chat) -> None:
    html = client_for(chat.agent).get(_urls(chat)["html"]).content.decode()
    text = client_for(chat.agent).get(_urls(chat)["txt"]).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>lamp</b>" not in html
    assert HOSTILE in text  # plain text is the text as typed


def test_a_supervisor_reads_any_chat(chat: Chat) -> None:
    response = client_for(SupervisorFactory()).get(_urls(chat)["txt"])

    assert response.status_code == 200


def test_another_agent_gets_404_as_if_it_did_not_exist(chat: Chat) -> None:
    client = client_for(AgentFactory())

    for url in _urls(chat).values():
        assert_error(client.get(url), 404, "chat_not_found")


def test_an_agent_serving_the_customer_now_reads_their_earlier_chat() -> None:
    earlier = active_chat(email="ana@example.com")
    services.chat_close(chat_id=earlier.pk, by=Participant.customer())
    now = active_chat(email="ana@example.com")

    response = client_for(now.agent).get(_urls(earlier)["txt"])

    assert response.status_code == 200


def test_an_unknown_chat_is_404_json() -> None:
    response = client_for(AgentFactory()).get("/api/v1/chats/999999/transcript.html")

    assert_error(response, 404, "chat_not_found")


@pytest.mark.parametrize("value", ["pdf", "HTML", "html\x00", "x" * 500])
def test_an_unknown_format_is_400_json(chat: Chat, value: str) -> None:
    response = client_for(chat.agent).get(f"/api/v1/chats/{chat.pk}/transcript/", {"format": value})

    body = assert_error(response, 400, "invalid")
    assert "format" in body["errors"]


def test_errors_stay_json_whatever_the_client_accepts(chat: Chat) -> None:
    client = client_for(AgentFactory())

    response = client.get(_urls(chat)["html"], HTTP_ACCEPT="text/html")

    assert_error(response, 404, "chat_not_found")


def test_without_a_token_it_is_401_json(chat: Chat) -> None:
    from rest_framework.test import APIClient

    assert_error(APIClient().get(_urls(chat)["html"]), 401, "not_authenticated")


def test_the_query_count_does_not_grow_with_the_messages(chat: Chat) -> None:
    client = client_for(chat.agent)
    url = _urls(chat)["txt"]
    client.get(url)  # the token's first use records last_used_at
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(20):
        services.message_post(
            chat_id=chat.pk, sender=Participant.agent(chat.agent), body=f"Reply {n}"
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert "Reply 19" in response.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
