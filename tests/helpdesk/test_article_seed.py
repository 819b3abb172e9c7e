"""`manage.py helpdesk_seed_articles`: three demo articles, idempotent."""

import pytest
from django.core.management import call_command

from helpdesk.models import Article
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def test_seeds_three_articles_once_and_keeps_edits() -> None:
    TopicFactory(slug="returns", name="Returns")
    call_command("helpdesk_seed_articles", "--quiet")
    assert Article.objects.count() == 3
    returns = Article.objects.get(slug="returns-within-30-days")
    assert returns.topic is not None and returns.topic.slug == "returns"
    # The other topics do not exist here: those articles have none, and that is fine.
    assert Article.objects.filter(topic=None).count() == 2

    returns.title = "Edited by a supervisor"
    returns.save()
    call_command("helpdesk_seed_articles", "--quiet")
    assert Article.objects.count() == 3
    assert Article.objects.get(slug="returns-within-30-days").title == "Edited by a supervisor"
