"""Supervisors follow every transfer in the admin; nobody edits them there (the console
writes them)."""

import pytest

from routing import transfers
from tests.factories import SupervisorFactory, TopicFactory
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat

pytestmark = pytest.mark.django_db


def test_a_supervisor_reads_the_transfers_and_cannot_change_them(client) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    alice = make_agent(topics=[topic], username="alice")
    bruno = make_agent(username="bruno")
    chat = held_chat(alice, topic=topic)
    transfer = transfers.transfer_to_agent(
        chat_id=chat.pk, sender=alice, to_agent_id=bruno.pk, note=NOTE
    )
    client.force_login(SupervisorFactory())

    listing = client.get("/admin/routing/transfer/")

    assert listing.status_code == 200
    assert f"Chat #{chat.pk}" in listing.content.decode()
    assert client.get(f"/admin/routing/transfer/{transfer.pk}/change/").status_code == 200
    assert client.get("/admin/routing/transfer/add/").status_code == 403
    edit = client.post(f"/admin/routing/transfer/{transfer.pk}/change/", {"status": "accepted"})
    assert edit.status_code == 403
    assert client.get(f"/admin/routing/transfer/{transfer.pk}/delete/").status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == "pending"


def test_an_agent_is_not_let_in(client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(make_agent())
    assert client.get("/admin/routing/transfer/").status_code == 302
