"""GET /api/v1/chats/ and /api/v1/chats/<id>/: what a token's user may read, and nothing else."""

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from chat import services
from chat.models import Chat
from routing.models import AgentProfile
from tests.api_support import assert_error, client_for, fresh_cache, result_ids
from tests.factories import AgentFactory, SupervisorFactory, TopicFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db

LIST = "/api/v1/chats/"


def detail(chat_id: int) -> str:
    return f"/api/v1/chats/{chat_id}/"


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


# --- Shape ----------------------------------------------------------------------------------------


def test_a_chat_reads_as_documented() -> None:
    agent = AgentFactory(first_name="Bruno", last_name="Costa")
    topic = TopicFactory(name="Returns", slug="returns")
    chat = active_chat(agent=agent, topic=topic, name="Ana Lima", email="ana@example.com")
    row = client_for(agent).get(detail(chat.pk)).json()
    assert set(row) == {
        "id",
        "status",
        "topic",
        "customer",
        "agent",
        "last_seq",
        "created_at",
        "queued_at",
        "assigned_at",
        "first_agent_response_at",
        "last_customer_message_at",
        "awaiting_reply_since",
        "on_hold_since",
        "closed_at",
        "closed_by",
        "close_reason",
        "transfer_count",
        "transfer",
    }
    assert row["id"] == chat.pk
    assert row["status"] == "active"
    assert row["topic"] == {"id": topic.pk, "slug": "returns", "name": "Returns"}
    assert row["customer"] == {
        "id": chat.customer_id,
        "name": "Ana Lima",
        "email": "ana@example.com",
    }
    assert row["agent"] == {"id": agent.pk, "name": "Bruno Costa"}
    assert row["last_seq"] == 3  # greeting, first question, "Bruno joined"
    assert row["closed_by"] is None and row["close_reason"] is None
    assert row["transfer"] is None
    # The list shows the same rows.
    assert client_for(agent).get(LIST).json()["results"] == [row]


def test_html_in_a_customers_name_is_returned_as_text() -> None:
    payload = '<img src=x onerror="alert(1)">'
    chat = start_chat(name=payload, message="<script>alert(1)</script>")
    row = client_for().get(detail(chat.pk)).json()
    assert row["customer"]["name"] == payload


# --- Who reads what -------------------------------------------------------------------------------


def test_no_token_is_401() -> None:
    chat = start_chat()
    assert_error(APIClient().get(LIST), 401, "not_authenticated")
    assert_error(APIClient().get(detail(chat.pk)), 401, "not_authenticated")


def test_an_agent_reads_their_chats_and_the_queue_never_a_colleagues_chat() -> None:
    agent = AgentFactory()
    mine = active_chat(agent=agent)
    colleagues = active_chat(agent=AgentFactory())
    queued = start_chat()
    client = client_for(agent)
    assert set(result_ids(client.get(LIST))) == {mine.pk, queued.pk}
    assert client.get(detail(mine.pk)).status_code == 200
    assert client.get(detail(queued.pk)).status_code == 200
    # Another agent's chat reads exactly like one that does not exist.
    hidden = assert_error(client.get(detail(colleagues.pk)), 404, "chat_not_found")
    missing = assert_error(client.get(detail(colleagues.pk + 1000)), 404, "chat_not_found")
    assert hidden == missing


def test_an_agent_reads_a_chat_they_held_before() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    services.chat_requeue(chat_id=chat.pk, reason="left")
    services.chat_assign(chat_id=chat.pk, agent=AgentFactory())
    assert client_for(agent).get(detail(chat.pk)).status_code == 200


def test_an_agent_with_skills_sees_only_the_queue_of_their_topics() -> None:
    returns, billing = TopicFactory(), TopicFactory()
    agent = AgentFactory()
    AgentProfile.objects.create(user=agent).topics.set([returns])
    theirs = start_chat(topic=returns)
    other = start_chat(topic=billing)
    client = client_for(agent)
    assert result_ids(client.get(LIST)) == [theirs.pk]
    assert_error(client.get(detail(other.pk)), 404, "chat_not_found")


def test_a_supervisor_reads_every_chat() -> None:
    chats = [active_chat(), start_chat(), active_chat()]
    services.chat_close(chat_id=chats[2].pk, by=services.Participant.system())
    client = client_for(SupervisorFactory())
    assert result_ids(client.get(LIST)) == [c.pk for c in reversed(chats)]
    assert client.get(detail(chats[0].pk)).status_code == 200


@pytest.mark.parametrize("chat_id", ["0", "99999999999999999", "9" * 19, "9" * 40, "-1", "abc"])
def test_an_id_that_cannot_be_a_chat_is_404_json(chat_id: str) -> None:
    response = client_for().get(f"/api/v1/chats/{chat_id}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


# --- Filters --------------------------------------------------------------------------------------


def test_filters_narrow_the_list() -> None:
    returns = TopicFactory(slug="returns")
    bruno = AgentFactory()
    ana = active_chat(agent=bruno, topic=returns, email="Ana@Example.com")
    queued = start_chat(topic=returns, email="carla@example.com")
    other = active_chat(email="dora@example.com")
    closed = active_chat(agent=bruno, email="ana@example.com")
    services.chat_close(chat_id=closed.pk, by=services.Participant.agent(bruno))
    client = client_for(SupervisorFactory())

    assert result_ids(client.get(LIST, {"status": "queued"})) == [queued.pk]
    assert result_ids(client.get(LIST, {"status": "closed"})) == [closed.pk]
    assert result_ids(client.get(LIST, {"topic": "returns"})) == [queued.pk, ana.pk]
    assert result_ids(client.get(LIST, {"topic": "nothing-here"})) == []
    assert result_ids(client.get(LIST, {"agent": bruno.pk})) == [closed.pk, ana.pk]
    assert result_ids(client.get(LIST, {"customer_email": "ANA@example.com"})) == [
        closed.pk,
        ana.pk,
    ]
    assert result_ids(client.get(LIST, {"agent": bruno.pk, "status": "active"})) == [ana.pk]
    assert other.pk in result_ids(client.get(LIST))


def test_created_after_and_before_bound_the_list() -> None:
    old, middle, new = start_chat(), start_chat(), start_chat()
    Chat.objects.filter(pk=old.pk).update(created_at="2026-01-01T10:00:00Z")
    Chat.objects.filter(pk=middle.pk).update(created_at="2026-02-01T10:00:00Z")
    Chat.objects.filter(pk=new.pk).update(created_at="2026-03-01T10:00:00Z")
    client = client_for()
    assert result_ids(client.get(LIST, {"created_after": "2026-02-01T10:00:00Z"})) == [
        new.pk,
        middle.pk,
    ]
    assert result_ids(client.get(LIST, {"created_before": "2026-02-01T10:00:00Z"})) == [old.pk]
    # An offset of its own: 11:00+01:00 is 10:00Z.
    window = {"created_after": "2026-02-01T11:00:00+01:00", "created_before": "2026-03-01"}
    assert result_ids(client.get(LIST, window)) == [middle.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"status": "open"}, "status", id="unknown-status"),
        pytest.param({"status": "<script>"}, "status", id="html-status"),
        pytest.param({"topic": "no spaces"}, "topic", id="topic-not-a-slug"),
        pytest.param({"topic": "x" * 81}, "topic", id="topic-too-long"),
        pytest.param({"agent": "bruno"}, "agent", id="agent-not-a-number"),
        pytest.param({"agent": "0"}, "agent", id="agent-0"),
        pytest.param({"agent": "9" * 30}, "agent", id="agent-huge"),
        pytest.param({"customer_email": "not-an-email"}, "customer_email", id="email"),
        pytest.param({"created_after": "yesterday"}, "created_after", id="after-words"),
        pytest.param({"created_after": "2026-13-01T00:00:00Z"}, "created_after", id="month-13"),
        pytest.param({"created_before": "2026-" + "9" * 2000}, "created_before", id="before-huge"),
        pytest.param(
            {"created_after": "2026-03-01T00:00:00Z", "created_before": "2026-02-01T00:00:00Z"},
            "created_before",
            id="window-backwards",
        ),
        pytest.param({"limit": "0"}, "limit", id="limit-0"),
        pytest.param({"limit": "-3"}, "limit", id="limit-negative"),
        pytest.param({"limit": "many"}, "limit", id="limit-words"),
    ],
)
def test_a_bad_filter_is_400_naming_the_field(params: dict[str, str], field: str) -> None:
    start_chat()
    body = assert_error(client_for().get(LIST, params), 400, "invalid")
    assert field in body["errors"], body


# --- Pages ----------------------------------------------------------------------------------------


def test_the_list_pages_by_cursor_newest_first() -> None:
    chats = [start_chat() for _ in range(5)]
    newest_first = [c.pk for c in reversed(chats)]
    client = client_for()
    first = client.get(LIST, {"limit": 2}).json()
    assert [r["id"] for r in first["results"]] == newest_first[:2]
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == newest_first[2:4]
    # A chat started meanwhile does not shift the pages already handed out.
    start_chat()
    third = client.get(second["next"]).json()
    assert [r["id"] for r in third["results"]] == newest_first[4:]
    assert third["next"] is None
    back = client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == newest_first[:2]


def test_a_limit_above_the_maximum_gives_a_full_page() -> None:
    start_chat()
    response = client_for().get(LIST, {"limit": "9" * 50})
    assert len(result_ids(response)) == 1


def cursor_of(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    ("cursor", "status"),
    [
        pytest.param("not-base64!", 404, id="junk"),
        pytest.param(cursor_of("p=abc"), 404, id="position-text"),
        pytest.param(cursor_of("p=" + "9" * 30), 404, id="position-huge"),
        pytest.param(cursor_of("p=1%00"), 404, id="position-nul"),
        pytest.param(cursor_of("r=" + "1" * 5000), 404, id="reverse-huge"),
        # DRF caps the offset (1000): a page past the end, not a slow scan.
        pytest.param(cursor_of("o=99999999"), 200, id="offset-huge"),
    ],
)
def test_a_forged_cursor_is_refused_not_a_crash(cursor: str, status: int) -> None:
    start_chat()
    response = client_for().get(LIST, {"cursor": cursor})
    if status == 404:
        assert_error(response, 404, "not_found")
    else:
        assert result_ids(response) == []


# --- Queries --------------------------------------------------------------------------------------


def count_queries(client: APIClient, url: str, params: dict[str, Any] | None = None) -> int:
    client.get(url, params)  # warm: the token's last use is written once a minute
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("make_user", [AgentFactory, SupervisorFactory], ids=["agent", "lead"])
def test_a_page_costs_the_same_queries_for_1_or_20_chats(make_user: Any) -> None:
    user = make_user()
    client = client_for(user)
    topic = TopicFactory()
    agent = user if make_user is AgentFactory else AgentFactory()
    active_chat(agent=agent, topic=topic)
    one = count_queries(client, LIST, {"topic": topic.slug})
    for _ in range(19):
        chat = active_chat(agent=agent, topic=topic)
        services.chat_requeue(chat_id=chat.pk, reason="left")
    assert len(result_ids(client.get(LIST, {"topic": topic.slug}))) == 20
    assert count_queries(client, LIST, {"topic": topic.slug}) == one
    # token (1), role (1 for a supervisor; 2 and the agent's queues, 1, for an agent), page (1)
    assert one == (5 if make_user is AgentFactory else 3)
