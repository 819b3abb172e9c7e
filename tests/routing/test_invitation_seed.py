"""`make run` seeds an invitation on the widget demo page: after 10 s on /widget-demo/, while an
agent of the topic is online. Idempotent, and a supervisor's edits survive a rerun."""

from io import StringIO

import pytest
from django.core.management import call_command

from routing.invitation_selectors import invitation_for_visit
from routing.invitations import Visit
from routing.models import InvitationRule
from tests.factories import TopicFactory
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("routing_seed_demo", stdout=out)
    return out.getvalue()


def demo_visit(seconds: int) -> Visit:
    return Visit(path="/widget-demo/", seconds_on_page=seconds, pages_in_visit=1, returning=False)


def test_the_demo_page_invites_after_ten_seconds() -> None:
    topic = TopicFactory(slug="product-questions", name="Product questions")
    make_agent(topics=[topic])
    assert "created" in seed()
    offer, again = invitation_for_visit(visit=demo_visit(3))
    assert (offer, again) == (None, 7)
    offer, _ = invitation_for_visit(visit=demo_visit(10))
    assert offer is not None and offer.topic_slug == "product-questions"


def test_a_rerun_keeps_the_supervisors_edits() -> None:
    TopicFactory(slug="product-questions")
    seed()
    InvitationRule.objects.update(min_seconds_on_page=45)
    assert "already there" in seed()
    assert InvitationRule.objects.get().min_seconds_on_page == 45


def test_without_topics_nothing_is_made() -> None:
    assert "run seed_demo first" in seed()
    assert not InvitationRule.objects.exists()
