"""Transfers under real row locks (PostgreSQL): concurrent requests for one chat leave one
pending; a cancel or the expiry sweep racing an acceptance never undoes it."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from chat import services as chat_services
from routing import transfers
from routing.errors import TransferNotPending, TransferPending
from routing.models import Transfer
from tests.factories import TopicFactory
from tests.routing.conftest import make_agent
from tests.routing.transfer_support import NOTE, held_chat, reload

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _manual_routing(settings) -> None:  # type: ignore[no-untyped-def]
    # Committed tests run every drain: keep the chats where the tests put them.
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"


def _in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, errors


def test_postgres_concurrent_requests_leave_one_pending(postgres) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    alice = make_agent(topics=[topic])
    chat = held_chat(alice, topic=topic)
    colleagues = [make_agent() for _ in range(6)]
    start = threading.Barrier(len(colleagues))

    def request(colleague: Any) -> Callable[[], None]:
        def run() -> None:
            start.wait(10)
            transfers.transfer_to_agent(
                chat_id=chat.pk, sender=alice, to_agent_id=colleague.pk, note=NOTE
            )

        return run

    threads = [_in_thread(request(colleague)) for colleague in colleagues]
    for thread, _errors in threads:
        thread.join(20)

    errors = [error for _thread, errs in threads for error in errs]
    assert len(errors) == len(colleagues) - 1
    assert all(isinstance(error, TransferPending) for error in errors), errors
    assert Transfer.objects.filter(chat=chat, status="pending").count() == 1


def _slow_hand_over(monkeypatch, handed: threading.Event, go: threading.Event) -> None:  # type: ignore[no-untyped-def]
    real = chat_services.chat_hand_over

    def slow(**kwargs):  # type: ignore[no-untyped-def]
        result = real(**kwargs)
        handed.set()  # handed over, not yet committed: the rows stay locked
        go.wait(10)
        return result

    monkeypatch.setattr(chat_services, "chat_hand_over", slow)


def test_postgres_a_cancel_racing_an_acceptance_comes_too_late(postgres, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    alice = make_agent(topics=[topic])
    bruno = make_agent()
    chat = held_chat(alice, topic=topic)
    transfer = transfers.transfer_to_agent(
        chat_id=chat.pk, sender=alice, to_agent_id=bruno.pk, note=NOTE
    )
    handed, go = threading.Event(), threading.Event()
    _slow_hand_over(monkeypatch, handed, go)
    thread, errors = _in_thread(
        lambda: transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)
    )
    assert handed.wait(10)

    canceller, cancelled = _in_thread(
        lambda: transfers.transfer_cancel(transfer_id=transfer.pk, agent=alice)
    )
    # The cancel waits for the chat's row lock; let the acceptance commit.
    go.set()
    thread.join(10)
    canceller.join(10)

    assert errors == []
    assert len(cancelled) == 1 and isinstance(cancelled[0], TransferNotPending)
    transfer.refresh_from_db()
    assert transfer.status == "accepted"
    assert reload(chat).agent == bruno


def test_postgres_the_expiry_sweep_skips_a_request_being_accepted(postgres, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    alice = make_agent(topics=[topic])
    bruno = make_agent()
    chat = held_chat(alice, topic=topic)
    transfer = transfers.transfer_to_agent(
        chat_id=chat.pk, sender=alice, to_agent_id=bruno.pk, note=NOTE
    )
    handed, go = threading.Event(), threading.Event()
    _slow_hand_over(monkeypatch, handed, go)
    thread, errors = _in_thread(
        lambda: transfers.transfer_reply(transfer_id=transfer.pk, agent=bruno, accept=True)
    )
    assert handed.wait(10)

    # As if the deadline had passed while Bruno was accepting: skipped at once, not waited for.
    assert transfers.transfer_expiry_sweep(now=transfer.expires_at) == []
    go.set()
    thread.join(10)

    assert errors == []
    transfer.refresh_from_db()
    assert transfer.status == "accepted"
    assert transfers.transfer_expiry_sweep(now=transfer.expires_at) == []
