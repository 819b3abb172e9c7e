"""Supervisors read ratings in the admin: score, chat, agent, topic, comment, date; filters by
score, topic and agent; nobody adds, edits or deletes one there."""

import pytest

from tests.factories import (
    AgentFactory,
    ClosedChatFactory,
    RatingFactory,
    SupervisorFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/admin/transcripts/rating/"


@pytest.fixture
def lead(client):  # type: ignore[no-untyped-def]
    user = SupervisorFactory()
    client.force_login(user)
    return user


def test_the_list_and_its_filters(client, lead) -> None:  # type: ignore[no-untyped-def]
    bruno = AgentFactory(first_name="Bruno", last_name="Reis")
    returns = TopicFactory(name="Returns")
    good = RatingFactory(
        score=5,
        comment="<script>x()</script> lovely",
        chat=ClosedChatFactory(agent=bruno, topic=returns),
    )
    poor = RatingFactory(score=1, comment="slow")
    html = client.get(LIST).content.decode()
    assert "Bruno Reis" in html and "Returns" in html
    assert "&lt;script&gt;x()&lt;/script&gt; lovely" in html and "<script>x()" not in html
    for query, shown, hidden in [
        ("?score=5", good, poor),
        (f"?chat__topic__id__exact={returns.pk}", good, poor),
        (f"?chat__agent__id__exact={poor.chat.agent_id}", poor, good),
    ]:
        page = client.get(LIST + query)
        assert page.status_code == 200
        rows = page.context["cl"].result_list
        assert list(rows) == [shown], query
        assert hidden not in rows


def test_read_only(client, lead) -> None:  # type: ignore[no-untyped-def]
    rating = RatingFactory(score=3)
    assert client.get(LIST + "add/").status_code == 403
    page = client.get(f"{LIST}{rating.pk}/change/")
    assert page.status_code == 200 and b'name="score"' not in page.content
    assert client.post(f"{LIST}{rating.pk}/change/", {"score": 5}).status_code == 403
    assert client.post(f"{LIST}{rating.pk}/delete/", {"post": "yes"}).status_code == 403
    rating.refresh_from_db()
    assert rating.score == 3


def test_agents_are_not_let_in(client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(AgentFactory(is_staff=True))
    # Refused by the admin site itself: to its login page, which says they are not authorised.
    assert client.get(LIST)["Location"].startswith("/admin/login/")
