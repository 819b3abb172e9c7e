"""GET /api/v1/console/canned-responses/: the ranked list an agent may insert."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.cannedresponses.conftest import client_for
from tests.factories import (
    AgentFactory,
    CannedResponseFactory,
    CannedResponseUseFactory,
    TopicFactory,
    UserFactory,
)
from tests.helpers import active_chat

pytestmark = pytest.mark.django_db

URL = "/api/v1/console/canned-responses/"


def shortcuts(response: Any) -> list[str]:
    return [row["shortcut"] for row in response.json()]


def test_for_a_chat_shared_its_topics_and_own_never_another_agents(
    api: APIClient, agent: Any
) -> None:
    chat = active_chat(agent=agent)
    CannedResponseFactory(shortcut="shared")
    CannedResponseFactory(shortcut="here", scope="topic", topic=chat.topic)
    CannedResponseFactory(shortcut="elsewhere", for_topic=True)
    CannedResponseFactory(shortcut="mine", personal=True, owner=agent)
    CannedResponseFactory(shortcut="theirs", personal=True, owner=AgentFactory())

    response = api.get(URL, {"chat": chat.pk})

    assert response.status_code == 200
    assert sorted(shortcuts(response)) == ["here", "mine", "shared"]


def test_each_item_carries_what_the_composer_needs(api: APIClient, agent: Any) -> None:
    chat = active_chat(agent=agent)
    order = CannedResponseFactory(
        title="Order status",
        shortcut="order",
        body="Order {ask:Order number} for {customer.first_name|there} ({ask:Date})",
        scope="topic",
        topic=chat.topic,
    )
    CannedResponseUseFactory(response=order, agent=agent, count=4)

    [item] = api.get(URL, {"chat": chat.pk}).json()

    assert item == {
        "id": order.pk,
        "title": "Order status",
        "shortcut": "order",
        "scope": "topic",
        "topic": {"id": chat.topic.pk, "name": chat.topic.name},
        "body": "Order {ask:Order number} for {customer.first_name|there} ({ask:Date})",
        "asks": ["Order number", "Date"],
        "editable": False,
        "use_count": 4,
        "is_active": True,
    }


def test_ranked_by_the_agents_own_use(api: APIClient, agent: Any) -> None:
    chat = active_chat(agent=agent)
    for shortcut, count in [("rare", 1), ("often", 7), ("never", 0), ("sometimes", 3)]:
        response = CannedResponseFactory(shortcut=shortcut, title=shortcut)
        if count:
            CannedResponseUseFactory(response=response, agent=agent, count=count)
    CannedResponseUseFactory(
        response=CannedResponseFactory(shortcut="others", title="zz"), count=99
    )
    assert shortcuts(api.get(URL, {"chat": chat.pk})) == [
        "often",
        "sometimes",
        "rare",
        "never",
        "others",
    ]


def test_editable_says_who_may_change_what(agent: Any, lead: Any) -> None:
    CannedResponseFactory(shortcut="shared")
    CannedResponseFactory(shortcut="mine", personal=True, owner=agent)
    CannedResponseFactory(shortcut="leads", personal=True, owner=lead)
    as_agent = {r["shortcut"]: r["editable"] for r in client_for(agent).get(URL).json()}
    as_lead = {r["shortcut"]: r["editable"] for r in client_for(lead).get(URL).json()}
    assert as_agent == {"shared": False, "mine": True}
    assert as_lead == {"shared": True, "leads": True}


def test_without_a_chat_the_topics_the_agent_follows(api: APIClient, agent: Any) -> None:
    CannedResponseFactory(shortcut="shared")
    CannedResponseFactory(shortcut="topic-a", for_topic=True)
    CannedResponseFactory(shortcut="mine", personal=True, owner=agent)
    # Without routing skills an agent follows every topic's queue (docs/routing.md).
    assert sorted(shortcuts(api.get(URL))) == ["mine", "shared", "topic-a"]


def test_a_chat_the_agent_may_not_read_is_not_found(api: APIClient) -> None:
    CannedResponseFactory()
    theirs = active_chat(agent=AgentFactory())
    response = api.get(URL, {"chat": theirs.pk})
    assert response.status_code == 404
    assert response.json() == {"code": "chat_not_found", "detail": "No such chat."}
    assert api.get(URL, {"chat": 999_999_999}).status_code == 404


def test_script_payloads_come_back_as_plain_json_text(api: APIClient, agent: Any) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    CannedResponseFactory(title=payload, body=payload, personal=True, owner=agent)
    response = api.get(URL)
    assert response["Content-Type"] == "application/json"
    assert response.json()[0]["title"] == payload
    assert response.json()[0]["body"] == payload


@pytest.mark.parametrize(
    ("user_factory", "code"),
    [
        pytest.param(lambda: UserFactory(), "permission_denied", id="no-role"),
        pytest.param(
            lambda: UserFactory(is_staff=True, is_superuser=True),
            "permission_denied",
            id="superuser-not-agent",
        ),
        # Django's backend does not authenticate an inactive user's session at all.
        pytest.param(
            lambda: AgentFactory(is_active=False), "not_authenticated", id="inactive-agent"
        ),
    ],
)
def test_only_agents_use_the_console_api(user_factory: Any, code: str) -> None:
    response = client_for(user_factory()).get(URL)
    assert response.status_code == 403
    assert response.json()["code"] == code


def test_anonymous_gets_403_json() -> None:
    response = APIClient().get(URL)
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


# --- Query counts ---------------------------------------------------------------------------

# session, user, is_agent, staff access (is_supervisor, and routing's queue scope: the agent's
# skills), the chat, the list.
QUERIES_WITH_CHAT = 7
# the same without the chat.
QUERIES_WITHOUT_CHAT = 6


@pytest.mark.parametrize("count", [1, 30])
def test_a_constant_number_of_queries_whatever_the_list(
    agent: Any, count: int, django_assert_num_queries: Any
) -> None:
    chat = active_chat(agent=agent, topic=TopicFactory())
    for index in range(count):
        response = CannedResponseFactory(
            scope=("shared", "topic", "personal")[index % 3],
            topic=chat.topic if index % 3 == 1 else None,
            owner=agent if index % 3 == 2 else None,
            body="{ask:X} {customer.name}",
        )
        CannedResponseUseFactory(response=response, agent=agent, count=index)
    api = client_for(agent)
    with django_assert_num_queries(QUERIES_WITH_CHAT):
        assert len(api.get(URL, {"chat": chat.pk}).json()) == count
    with django_assert_num_queries(QUERIES_WITHOUT_CHAT):
        assert len(api.get(URL).json()) == count
