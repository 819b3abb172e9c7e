"""/api/v1/chats/<id>/messages/: read a chat's messages by sequence number, and post one as
the token's user with the console's rules."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from chat import services
from chat.models import Chat, Message
from tests.api_support import assert_error, client_for, fresh_cache, post_json
from tests.factories import AgentFactory, ConsoleSupervisorFactory, SupervisorFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db


def url(chat: Chat | int) -> str:
    return f"/api/v1/chats/{getattr(chat, 'pk', chat)}/messages/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


@pytest.fixture
def agent() -> Any:
    return AgentFactory(first_name="Bruno", last_name="Costa")


@pytest.fixture
def chat(agent: Any) -> Chat:
    return active_chat(agent=agent, name="Ana Lima")


@pytest.fixture
def writer(agent: Any) -> APIClient:
    return client_for(agent, scope="write")


def stored(chat: Chat) -> list[tuple[str, str]]:
    return list(Message.objects.filter(chat=chat).order_by("seq").values_list("kind", "body"))


# --- Posting --------------------------------------------------------------------------------------


def test_the_chats_agent_posts_a_message(chat: Chat, agent: Any, writer: APIClient) -> None:
    response = writer.post(url(chat), {"body": "On its way!", "client_msg_id": "crm-1"})
    assert response.status_code == 201, response.content
    assert response.json() == {
        "seq": 4,
        "kind": "agent",
        "body": "On its way!",
        "author": {"id": agent.pk, "name": "Bruno Costa"},
        "created_at": response.json()["created_at"],
        "client_msg_id": "crm-1",
    }
    assert stored(chat)[-1] == ("agent", "On its way!")
    assert Chat.objects.get(pk=chat.pk).awaiting_reply_since is None


def test_a_resend_with_the_same_client_msg_id_stores_it_once(chat: Chat, writer: APIClient) -> None:
    first = writer.post(url(chat), {"body": "Hello", "client_msg_id": "crm-1"})
    again = writer.post(url(chat), {"body": "Hello", "client_msg_id": "crm-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert [body for kind, body in stored(chat) if kind == "agent"] == ["Hello"]
    other = writer.post(url(chat), {"body": "Bye", "client_msg_id": "crm-1"})
    assert_error(other, 409, "client_msg_id_conflict")
    # Without an id, each post is a new message.
    writer.post(url(chat), {"body": "Hello"})
    assert [body for kind, body in stored(chat) if kind == "agent"] == ["Hello", "Hello"]


def test_a_supervisor_writes_in_any_chat(chat: Chat) -> None:
    response = client_for(SupervisorFactory(), scope="write").post(url(chat), {"body": "Hi"})
    assert response.status_code == 201


def test_a_closed_chat_is_409(chat: Chat, agent: Any, writer: APIClient) -> None:
    services.chat_close(chat_id=chat.pk, by=services.Participant.agent(agent))
    assert_error(writer.post(url(chat), {"body": "Still there?"}), 409, "chat_closed")


def test_another_agents_chat_is_not_found_and_untouched(writer: APIClient) -> None:
    theirs = active_chat(agent=AgentFactory())
    before = stored(theirs)
    body = assert_error(writer.post(url(theirs), {"body": "Hi"}), 404, "chat_not_found")
    assert body == assert_error(writer.post(url(10**12), {"body": "Hi"}), 404, "chat_not_found")
    assert stored(theirs) == before


def test_a_chat_read_but_not_held_is_403_forbidden(agent: Any, writer: APIClient) -> None:
    queued = start_chat()
    assert_error(writer.post(url(queued), {"body": "Hi"}), 403, "forbidden")
    # Held before, now a colleague's: readable, not writable; the detail names who has it.
    chat = active_chat(agent=agent)
    services.chat_requeue(chat_id=chat.pk, reason="left")
    services.chat_assign(chat_id=chat.pk, agent=AgentFactory(first_name="Carla"))
    body = assert_error(writer.post(url(chat), {"body": "Hi"}), 403, "forbidden")
    assert "Carla" in body["detail"]
    assert not Message.objects.filter(kind="agent").exists()


def test_a_read_token_posts_nothing(chat: Chat, agent: Any) -> None:
    response = client_for(agent, scope="read").post(url(chat), {"body": "Hi"})
    assert_error(response, 403, "read_only_token")
    assert not Message.objects.filter(kind="agent").exists()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        pytest.param({"body": ""}, "body_empty", id="empty"),
        pytest.param({"body": " \n\t "}, "body_empty", id="blank"),
        pytest.param({"body": "x" * 4001}, "body_too_long", id="too-long"),
        pytest.param({"body": "x" * 200_000}, "body_too_long", id="oversize"),
        pytest.param({"body": "nul\x00"}, "body_invalid", id="nul"),
        pytest.param({"body": "half \ud800"}, "body_invalid", id="surrogate"),
        pytest.param({}, "invalid", id="missing"),
        pytest.param({"body": 42}, "invalid", id="number"),
        pytest.param({"body": None}, "invalid", id="null"),
        pytest.param({"body": ["Hi"]}, "invalid", id="list"),
        pytest.param({"body": {"text": "Hi"}}, "invalid", id="object"),
        pytest.param({"body": "Hi", "client_msg_id": ""}, "invalid", id="id-empty"),
        pytest.param({"body": "Hi", "client_msg_id": "a b"}, "invalid", id="id-space"),
        pytest.param({"body": "Hi", "client_msg_id": "x" * 65}, "invalid", id="id-too-long"),
        pytest.param({"body": "Hi", "client_msg_id": "id\n"}, "invalid", id="id-newline"),
        pytest.param({"body": "Hi", "client_msg_id": 12}, "invalid", id="id-number"),
        pytest.param([{"body": "Hi"}], "invalid", id="a-list"),
    ],
)
def test_bad_messages_are_refused_with_the_consoles_codes(
    chat: Chat, writer: APIClient, payload: Any, code: str
) -> None:
    before = stored(chat)
    assert_error(post_json(writer, url(chat), payload), 400, code)
    assert stored(chat) == before


def test_malformed_json_is_400(chat: Chat, writer: APIClient) -> None:
    response = writer.generic("POST", url(chat), '{"body": "Hi"', content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_html_is_kept_as_text(chat: Chat, writer: APIClient) -> None:
    payload = '<a href="javascript:alert(1)">click</a>'
    assert writer.post(url(chat), {"body": payload}).json()["body"] == payload
    assert stored(chat)[-1] == ("agent", payload)


# --- Reading --------------------------------------------------------------------------------------


def test_messages_read_oldest_first_from_after_seq(chat: Chat, agent: Any) -> None:
    services.message_post(
        chat_id=chat.pk, sender=services.Participant.agent(agent), body="Hi Ana", client_msg_id="a"
    )
    client = client_for(agent)
    page = client.get(url(chat)).json()
    assert [(m["seq"], m["kind"]) for m in page["results"]] == [
        (1, "system"),
        (2, "customer"),
        (3, "system"),
        (4, "agent"),
    ]
    assert page["results"][1]["author"] == {"id": None, "name": "Ana Lima"}
    assert page["results"][0]["author"] is None
    assert page["results"][3]["author"] == {"id": agent.pk, "name": "Bruno Costa"}
    assert page["next"] is None and page["last_seq"] == 4
    later = client.get(url(chat), {"after_seq": 2}).json()
    assert [m["seq"] for m in later["results"]] == [3, 4]
    assert client.get(url(chat), {"after_seq": 4}).json()["results"] == []


def test_next_follows_with_after_seq_until_up_to_date(chat: Chat, agent: Any) -> None:
    for n in range(5):
        services.message_post(chat_id=chat.pk, sender=services.Participant.customer(), body=f"{n}")
    client = client_for(agent)
    seen: list[int] = []
    page = client.get(url(chat), {"limit": 3}).json()
    while True:
        seen += [m["seq"] for m in page["results"]]
        if page["next"] is None:
            break
        assert "after_seq=" in page["next"] and "limit=3" in page["next"]
        page = client.get(page["next"]).json()
    assert seen == list(range(1, 9))


def test_reading_another_agents_chat_is_not_found(agent: Any) -> None:
    theirs = active_chat(agent=AgentFactory())
    assert_error(client_for(agent).get(url(theirs)), 404, "chat_not_found")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"after_seq": "-1"}, "after_seq", id="after-negative"),
        pytest.param({"after_seq": "two"}, "after_seq", id="after-words"),
        pytest.param({"after_seq": "9" * 40}, "after_seq", id="after-huge"),
        pytest.param({"limit": "0"}, "limit", id="limit-0"),
        pytest.param({"limit": "201"}, "limit", id="limit-201"),
        pytest.param({"limit": "x"}, "limit", id="limit-words"),
    ],
)
def test_bad_paging_is_400(chat: Chat, agent: Any, params: dict[str, str], field: str) -> None:
    body = assert_error(client_for(agent).get(url(chat), params), 400, "invalid")
    assert field in body["errors"]


def test_a_page_costs_the_same_queries_for_1_or_40_messages(agent: Any) -> None:
    supervisor = ConsoleSupervisorFactory()
    chat = active_chat(agent=agent, message="")
    client = client_for(supervisor)

    def count() -> int:
        client.get(url(chat))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(chat), {"after_seq": 1, "limit": 100}).status_code == 200
        return len(queries)

    few = count()
    for n in range(40):
        services.message_post(
            chat_id=chat.pk, sender=services.Participant.agent(agent), body=f"m{n}"
        )
    assert count() == few
    # token, role, the chat, its messages with their authors
    assert few == 4
