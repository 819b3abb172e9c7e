"""canned_render: a response filled for one chat, with the agent's values, and its use counted."""

import datetime
from typing import Any

import pytest
from django.utils import timezone

from cannedresponses.errors import (
    BodyNoLongerValid,
    RenderedTooLong,
    ValueInvalid,
    ValuesMissing,
    WrongTopic,
)
from cannedresponses.models import CannedResponse, CannedResponseUse
from cannedresponses.services import canned_render, canned_use_record
from chat.models import Chat
from tests.factories import (
    AgentFactory,
    CannedResponseFactory,
    ChatFactory,
    CustomerFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat() -> Chat:
    topic = TopicFactory(name="Returns", timezone="Pacific/Auckland")
    customer = CustomerFactory(name="Ana Lima", email="ana@example.com")
    return ChatFactory(topic=topic, customer=customer)


def response(body: str, **kwargs: Any) -> CannedResponse:
    return CannedResponseFactory(body=body, **kwargs)


def test_the_chat_and_the_agent_fill_the_placeholders(
    chat: Chat, agent: Any, settings: Any
) -> None:
    settings.HELPDESK_BRAND_NAME = "Acme"
    body = (
        "Hi {customer.first_name}, I'm {agent.first_name} ({agent.name}) from {brand}: "
        "{topic.name}, chat {chat.id}, {customer.email}, {customer.name}."
    )
    text = canned_render(response=response(body), chat=chat, agent=agent, values={})
    assert text == (
        f"Hi Ana, I'm Sam (Sam) from Acme: Returns, chat {chat.pk}, ana@example.com, Ana Lima."
    )


def test_today_is_the_date_in_the_topics_time_zone(
    chat: Chat, agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20:00 UTC on 15 March is already 16 March in Auckland (UTC+13 in March).
    instant = datetime.datetime(2026, 3, 15, 20, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    text = canned_render(response=response("{today}"), chat=chat, agent=agent, values={})
    assert text == "2026-03-16"


def test_fallbacks_cover_what_the_chat_does_not_know(agent: Any) -> None:
    chat = ChatFactory(customer=CustomerFactory(name="  ", email=""))
    agent.first_name = ""
    body = "Hi {customer.first_name|there}, {agent.first_name|your agent} <{customer.email|}>"
    text = canned_render(response=response(body), chat=chat, agent=agent, values={})
    assert text == "Hi there, your agent <>"


def test_ask_values_are_inserted_literally(chat: Chat, agent: Any) -> None:
    body = "Order {ask:Order number} for {customer.first_name}"
    values = {"Order number": "  {customer.email} {{x}} <b>1</b>  "}
    text = canned_render(response=response(body), chat=chat, agent=agent, values=values)
    assert text == "Order {customer.email} {{x}} <b>1</b> for Ana"


def test_missing_values_are_listed(chat: Chat, agent: Any) -> None:
    body = "{ask:Order number} {ask:Date} {ask:Order number}"
    with pytest.raises(ValuesMissing) as caught:
        canned_render(response=response(body), chat=chat, agent=agent, values={"Date": " "})
    assert caught.value.labels == ["Order number", "Date"]
    assert caught.value.extra()["missing"] == ["Order number", "Date"]
    assert not CannedResponseUse.objects.exists()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({"A": "x" * 201}, "at most 200 characters", id="201-chars"),
        pytest.param({"A": "a\x00b"}, "control characters", id="nul"),
        pytest.param({"A": "a\x1b[31mb"}, "control characters", id="escape-sequence"),
        pytest.param({"A": "a\ud800"}, "valid Unicode", id="surrogate"),
        pytest.param({"A": 12}, "must be a string", id="number"),
        pytest.param({"A": None}, "must be a string", id="null"),
        pytest.param({"A": ["x"]}, "must be a string", id="list"),
        pytest.param({"A": {"x": 1}}, "must be a string", id="object"),
        pytest.param({"x" * 41: "v"}, "not a label", id="long-label"),
        pytest.param({f"k{i}": "v" for i in range(21)}, "At most 20 values", id="21-values"),
    ],
)
def test_bad_values_are_refused(
    chat: Chat, agent: Any, values: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValueInvalid) as caught:
        canned_render(response=response("{ask:A}"), chat=chat, agent=agent, values=values)
    assert any(expected in problem for problem in caught.value.errors["values"])


def test_values_may_hold_line_breaks_and_exactly_200_characters(chat: Chat, agent: Any) -> None:
    values = {"A": "line one\nline\ttwo", "B": "y" * 200}
    text = canned_render(
        response=response("{ask:A}|{ask:B}"), chat=chat, agent=agent, values=values
    )
    assert text == "line one\nline\ttwo|" + "y" * 200


def test_values_for_labels_not_asked_are_ignored(chat: Chat, agent: Any) -> None:
    text = canned_render(response=response("Hi"), chat=chat, agent=agent, values={"Other": "x"})
    assert text == "Hi"


def test_a_topic_response_renders_only_in_its_topics_chats(chat: Chat, agent: Any) -> None:
    other = CannedResponseFactory(for_topic=True)
    with pytest.raises(WrongTopic):
        canned_render(response=other, chat=chat, agent=agent, values={})
    own = CannedResponseFactory(scope="topic", topic=chat.topic, body="ok")
    assert canned_render(response=own, chat=chat, agent=agent, values={}) == "ok"


def test_a_text_longer_than_a_message_is_refused(chat: Chat, agent: Any) -> None:
    body = "x" * 3900 + "{ask:A}"
    with pytest.raises(RenderedTooLong):
        canned_render(response=response(body), chat=chat, agent=agent, values={"A": "y" * 101})
    text = canned_render(response=response(body), chat=chat, agent=agent, values={"A": "y" * 100})
    assert len(text) == 4000


def test_a_body_saved_around_validation_is_refused_not_evaluated(chat: Chat, agent: Any) -> None:
    broken = CannedResponseFactory()
    CannedResponse.objects.filter(pk=broken.pk).update(body="{customer.__class__}")
    broken.refresh_from_db()
    with pytest.raises(BodyNoLongerValid):
        canned_render(response=broken, chat=chat, agent=agent, values={})


def test_each_render_counts_one_use_for_that_agent(chat: Chat, agent: Any) -> None:
    greet = response("Hi")
    other_agent = AgentFactory()
    for _ in range(3):
        canned_render(response=greet, chat=chat, agent=agent, values={})
    canned_render(response=greet, chat=chat, agent=other_agent, values={})
    uses = {use.agent_id: use for use in CannedResponseUse.objects.filter(response=greet)}
    assert (uses[agent.pk].count, uses[other_agent.pk].count) == (3, 1)
    assert uses[agent.pk].last_used_at is not None


def test_usage_recording_survives_a_row_created_meanwhile(
    agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    greet = CannedResponseFactory()
    canned_use_record(response=greet, agent=agent)
    # As if the agent's other tab created the row between our update and our insert: the
    # first update finds nothing, the insert then hits the unique constraint.
    queryset_class = type(CannedResponseUse.objects.all())
    real_update = queryset_class.update
    misses = [True]

    def update(self: Any, **kwargs: Any) -> int:
        if misses:
            misses.pop()
            return 0
        return real_update(self, **kwargs)

    monkeypatch.setattr(queryset_class, "update", update)
    canned_use_record(response=greet, agent=agent)
    assert CannedResponseUse.objects.get(response=greet, agent=agent).count == 2
