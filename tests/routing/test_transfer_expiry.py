"""A request unanswered within HELPDESK_TRANSFER_TIMEOUT_SECONDS returns to its sender: the
sweep (Celery beat, and after every presence sweep) expires it, the sender is told "No answer
within N seconds" and the receiver's card is withdrawn. An answer past the deadline is too late
even before the sweep has run."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from routing import services, tasks, transfers
from routing.errors import TransferNotPending
from routing.models import Transfer
from tests.factories import TopicFactory
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    alice = make_agent(topics=[topic], first_name="Alice")
    bruno = make_agent(first_name="Bruno")
    return alice, bruno, held_chat(alice, topic=topic)


def ask(chat, alice, bruno) -> Transfer:  # type: ignore[no-untyped-def]
    return transfers.transfer_to_agent(
        chat_id=chat.pk, sender=alice, to_agent_id=bruno.pk, note=NOTE
    )


def test_an_unanswered_request_expires_and_returns_to_the_sender(
    team, published, committed
) -> None:  # type: ignore[no-untyped-def]
    alice, bruno, chat = team
    transfer = ask(chat, alice, bruno)
    deadline = transfer.expires_at

    assert transfers.transfer_expiry_sweep(now=deadline - timedelta(seconds=1)) == []
    with committed():
        assert transfers.transfer_expiry_sweep(now=deadline) == [transfer.pk]

    transfer.refresh_from_db()
    assert (transfer.status, transfer.reason) == ("expired", "No answer within 60 seconds.")
    assert transfer.decided_at is not None
    assert (reload(chat).agent, reload(chat).transfer_count) == (alice, 0)
    (result,) = published.frames("transfer_result", group=f"agent.{alice.pk}")
    assert result == {
        "type": "transfer_result",
        "id": transfer.pk,
        "chat": chat.pk,
        "status": "expired",
        "reason": "No answer within 60 seconds.",
        "by": {"id": bruno.pk, "name": "Bruno"},
    }
    (withdrawn,) = published.frames("transfer_cancelled", group=f"agent.{bruno.pk}")
    assert (withdrawn["id"], withdrawn["status"]) == (transfer.pk, "expired")
    # Swept once: a second pass finds nothing, and a new request may be made.
    assert transfers.transfer_expiry_sweep(now=deadline + timedelta(minutes=5)) == []
    assert ask(chat, alice, bruno).status == "pending"


def test_the_reason_names_the_timeout_the_request_was_sent_with(team, settings) -> None:  # type: ignore[no-untyped-def]
    alice, bruno, chat = team
    settings.HELPDESK_TRANSFER_TIMEOUT_SECONDS = 30
    transfer = ask(chat, alice, bruno)
    settings.HELPDESK_TRANSFER_TIMEOUT_SECONDS = 90

    transfers.transfer_expiry_sweep(now=transfer.created_at + timedelta(seconds=30))

    transfer.refresh_from_db()
    assert transfer.reason == "No answer within 30 seconds."


def test_an_answer_after_the_deadline_is_too_late_even_before_the_sweep(
    team, published, committed
) -> None:  # type: ignore[no-untyped-def]
    alice, bruno, chat = team
    transfer = ask(chat, alice, bruno)
    Transfer.objects.filter(pk=transfer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with committed():
        outcome = transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)

    assert isinstance(outcome.error, TransferNotPending)
    transfer.refresh_from_db()
    assert transfer.status == "expired"
    assert reload(chat).agent == alice
    (result,) = published.frames("transfer_result", group=f"agent.{alice.pk}")
    assert result["status"] == "expired"
    with pytest.raises(TransferNotPending):
        transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)


def test_the_presence_sweep_runs_it_between_beats(team) -> None:  # type: ignore[no-untyped-def]
    alice, bruno, chat = team
    transfer = ask(chat, alice, bruno)
    Transfer.objects.filter(pk=transfer.pk).update(expires_at=timezone.now())

    services.presence_sweep()

    transfer.refresh_from_db()
    assert transfer.status == "expired"


def test_celery_beat_runs_the_sweep(team) -> None:  # type: ignore[no-untyped-def]
    alice, bruno, chat = team
    transfer = ask(chat, alice, bruno)
    Transfer.objects.filter(pk=transfer.pk).update(expires_at=timezone.now())

    assert tasks.transfer_expiry_sweep.apply().get() == 1
    beat = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "routing.tasks.transfer_expiry_sweep" in beat


def test_other_requests_are_left_alone(team) -> None:  # type: ignore[no-untyped-def]
    alice, bruno, chat = team
    other = held_chat(alice, topic=chat.topic)
    early = ask(chat, alice, bruno)
    later = ask(other, alice, bruno)
    Transfer.objects.filter(pk=later.pk).update(expires_at=early.expires_at + timedelta(minutes=1))

    assert transfers.transfer_expiry_sweep(now=early.expires_at) == [early.pk]
    later.refresh_from_db()
    assert later.status == "pending"
