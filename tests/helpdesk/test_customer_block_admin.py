"""Supervisors review blocks in the admin (list, filters, search) and lift them with an action
that goes through the service; nobody adds, edits or deletes a block there."""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.models import CustomerBlock
from tests.factories import (
    AgentFactory,
    CustomerBlockFactory,
    SupervisorFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/admin/helpdesk/customerblock/"


@pytest.fixture
def lead(client):  # type: ignore[no-untyped-def]
    user = SupervisorFactory(first_name="Maria")
    client.force_login(user)
    return user


def test_the_list_shows_what_a_supervisor_reviews(client, lead) -> None:  # type: ignore[no-untyped-def]
    bruno = AgentFactory(username="bruno")
    CustomerBlockFactory(
        email="troll@example.com",
        browser_key="9f8e7d6c-5b4a-4321-8765-abcdefabcdef",
        ip_hash="a" * 64,
        ip_blocked_until=timezone.now() + timedelta(hours=1),
        reason="<script>alert(1)</script> shouted at Bruno",
        created_by=bruno,
    )
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "troll@example.com" in html
    assert "9f8e7d6c…" in html and "9f8e7d6c-5b4a" not in html  # a prefix only
    assert "bruno" in html
    # The reason is text: escaped, never markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; shouted at Bruno" in html
    assert "<script>alert(1)" not in html
    assert "a" * 64 not in html  # the address hash is of no use to a reader


def test_filters_active_and_lifted_and_search_by_email(client, lead) -> None:  # type: ignore[no-untyped-def]
    CustomerBlockFactory(email="still@example.com")
    CustomerBlockFactory(email="forgiven@example.com", lifted_at=timezone.now(), lifted_by=lead)

    def shown(query: str) -> set[str]:
        html = client.get(LIST + query).content.decode()
        return {e for e in ("still@example.com", "forgiven@example.com") if e in html}

    assert shown("") == {"still@example.com", "forgiven@example.com"}
    assert shown("?state=active") == {"still@example.com"}
    assert shown("?state=lifted") == {"forgiven@example.com"}
    assert shown("?q=STILL@") == {"still@example.com"}


def test_lift_selected_blocks_goes_through_the_service(client, lead) -> None:  # type: ignore[no-untyped-def]
    one, two = CustomerBlockFactory(), CustomerBlockFactory()
    earlier = timezone.now() - timedelta(days=1)
    other = SupervisorFactory()
    done = CustomerBlockFactory(lifted_at=earlier, lifted_by=other)
    keep = CustomerBlockFactory()

    response = client.post(
        LIST,
        {"action": "lift_selected", "_selected_action": [one.pk, two.pk, done.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Lifted 2 blocks. 1 already lifted." in response.content.decode()
    for block in (one, two):
        block.refresh_from_db()
        assert block.lifted_by == lead and block.lifted_at is not None
    done.refresh_from_db()
    assert (done.lifted_at, done.lifted_by) == (earlier, other)  # the first lift stays
    keep.refresh_from_db()
    assert keep.lifted_at is None


def test_nobody_adds_edits_or_deletes_a_block_here(client, lead) -> None:  # type: ignore[no-untyped-def]
    block = CustomerBlockFactory(email="troll@example.com")
    assert client.get(f"{LIST}{block.pk}/change/").status_code == 200  # read-only page
    assert client.post(f"{LIST}{block.pk}/change/", {"email": "x@example.com"}).status_code == 403
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.get(f"{LIST}{block.pk}/delete/").status_code == 403
    client.post(LIST, {"action": "delete_selected", "_selected_action": [block.pk], "post": "yes"})
    block.refresh_from_db()
    assert block.email == "troll@example.com"
    assert CustomerBlock.objects.count() == 1


def test_agents_are_not_let_in(client) -> None:  # type: ignore[no-untyped-def]
    block = CustomerBlockFactory()
    client.force_login(AgentFactory(is_staff=True))
    # Refused by the admin site itself: to its login page, which says they are not authorised.
    assert client.get(LIST)["Location"].startswith("/admin/login/")
    client.post(LIST, {"action": "lift_selected", "_selected_action": [block.pk]})
    block.refresh_from_db()
    assert block.lifted_at is None


def test_a_superuser_who_is_not_a_supervisor_reads_but_cannot_lift(client) -> None:  # type: ignore[no-untyped-def]
    block = CustomerBlockFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(LIST)
    assert page.status_code == 200
    assert "lift_selected" not in page.content.decode()
    client.post(LIST, {"action": "lift_selected", "_selected_action": [block.pk]})
    block.refresh_from_db()
    assert block.lifted_at is None
