"""Supervisors switch the bot on per topic in the admin and read its answers (read only); the
list of answers costs the same queries for 1 and 20 rows."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cannedresponses.models import BotAnswer, TopicBot
from chat.models import Chat
from helpdesk.models import Article, Topic
from tests.factories import AgentFactory, SupervisorFactory, TopicFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/cannedresponses/botanswer/"


@pytest.fixture
def lead(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


def test_a_supervisor_switches_the_bot_on_for_a_topic(lead: Client) -> None:
    topic = TopicFactory(name="Billing", slug="billing")
    response = lead.post(
        "/admin/cannedresponses/topicbot/add/",
        {"topic": topic.pk, "is_enabled": "on", "max_articles": "1", "min_match": "60"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    bot = TopicBot.objects.get(topic=topic)
    assert (bot.is_enabled, bot.max_articles, bot.min_match) == (True, 1, 60)


@pytest.mark.parametrize(
    "changes", [{"max_articles": "3"}, {"min_match": "0"}, {"min_match": "101"}]
)
def test_out_of_range_settings_are_form_errors(lead: Client, changes: dict[str, str]) -> None:
    topic = TopicFactory()
    data = {"topic": topic.pk, "is_enabled": "on", "max_articles": "2", "min_match": "50"}
    response = lead.post("/admin/cannedresponses/topicbot/add/", data | changes)
    assert response.status_code == 200
    assert not TopicBot.objects.exists()


def test_agents_do_not_reach_the_bots_settings(client: Client) -> None:
    client.force_login(AgentFactory(is_staff=True))
    assert client.get("/admin/cannedresponses/topicbot/").status_code in (302, 403)


def test_answers_are_read_only_and_listed_in_constant_queries(
    lead: Client,
    kb: dict[str, Article],
    topic: Topic,
    start: Callable[..., Chat],
) -> None:
    start("How do I return my parcel?")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert lead.get(LIST).status_code == 200
        return len(captured)

    one = queries()
    for _ in range(19):
        start("How do I return my parcel?")
    assert BotAnswer.objects.count() == 20
    assert queries() == one
    answer = BotAnswer.objects.first()
    assert lead.get(f"{LIST}{answer.pk}/change/").status_code == 200
    assert lead.get(f"{LIST}add/").status_code == 403
    assert lead.post(f"{LIST}{answer.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = lead.get(LIST, {"feedback__exact": "rejected"}).content.decode()
    assert "How to return an item" not in listing
