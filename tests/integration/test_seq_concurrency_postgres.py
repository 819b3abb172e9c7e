"""Sequence numbers, idempotent resends and taking a chat, under real concurrency on PostgreSQL.

Threads call the services directly, each on its own database connection, all released at
once by a barrier; every thread closes its connection when it is done.
"""

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from chat import services
from chat.errors import ChatAlreadyAssigned
from chat.models import Chat, ChatEvent, Message
from chat.services import Participant
from routing.models import AgentProfile
from tests.factories import AgentFactory, TopicFactory
from tests.helpers import active_chat, start_chat

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

THREADS = 8
POSTS_PER_THREAD = 25


def run_threads(target: Callable[[int], Any], count: int) -> list[Any]:
    """Run target(0..count-1) in `count` threads released together; results (or the
    exception raised) by thread index. Each thread closes its own database connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def body(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = target(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def test_concurrent_posts_get_consecutive_seqs_without_gaps_or_duplicates(postgres: None) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent, message="")  # seq 1 greeting, seq 2 "joined"
    chat_id, base = chat.pk, chat.last_seq
    customer, staff = Participant.customer(), Participant.agent(agent)

    def post_many(index: int) -> list[int]:
        sender = staff if index % 2 else customer
        seqs = []
        for n in range(POSTS_PER_THREAD):
            result = services.message_post(
                chat_id=chat_id, sender=sender, body=f"t{index} #{n}", client_msg_id=f"t{index}-{n}"
            )
            assert result.created
            seqs.append(result.message.seq)
        return seqs

    results = run_threads(post_many, THREADS)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors

    total = base + THREADS * POSTS_PER_THREAD
    handed_out = [seq for seqs in results for seq in seqs]
    assert sorted(handed_out) == list(range(base + 1, total + 1))
    for seqs in results:  # one thread's posts are stored in the order it sent them
        assert seqs == sorted(seqs)

    stored = list(Message.objects.filter(chat_id=chat_id).order_by("seq"))
    assert [m.seq for m in stored] == list(range(1, total + 1))
    assert Chat.objects.get(pk=chat_id).last_seq == total
    by_id = {m.client_msg_id: m for m in stored if m.client_msg_id}
    for index, seqs in enumerate(results):
        for n, seq in enumerate(seqs):
            message = by_id[f"t{index}-{n}"]
            assert (message.seq, message.body) == (seq, f"t{index} #{n}")
            assert message.kind == ("agent" if index % 2 else "customer")


@pytest.mark.parametrize("kind", ["customer", "agent"])
def test_concurrent_resends_of_one_message_store_it_once(postgres: None, kind: str) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    sender = Participant.customer() if kind == "customer" else Participant.agent(agent)
    rounds = 5

    for round_no in range(rounds):
        client_msg_id = f"resend-{round_no}"

        def resend(_index: int, client_msg_id: str = client_msg_id) -> tuple[int, bool, int]:
            result = services.message_post(
                chat_id=chat.pk, sender=sender, body="Same words", client_msg_id=client_msg_id
            )
            return result.message.seq, result.created, result.message.pk

        results = run_threads(resend, THREADS)
        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors
        assert len({seq for seq, _, _ in results}) == 1, results
        assert len({pk for _, _, pk in results}) == 1, results
        assert sum(created for _, created, _ in results) == 1, results
        rows = Message.objects.filter(chat=chat, client_msg_id=client_msg_id)
        assert rows.count() == 1
        assert rows.get().seq == results[0][0]

    chat.refresh_from_db()
    seqs = list(Message.objects.filter(chat=chat).values_list("seq", flat=True))
    assert seqs == list(range(1, chat.last_seq + 1))
    assert Message.objects.filter(chat=chat, client_msg_id__startswith="resend-").count() == rounds


def _room_for(agents: list, chats: int) -> None:
    """Capacity is routing's rule, not this test's subject: let every agent win every round."""
    for agent in agents:
        AgentProfile.objects.update_or_create(user=agent, defaults={"max_chats": chats})


def test_two_agents_taking_one_chat_at_once_exactly_one_wins(postgres: None) -> None:
    topic = TopicFactory()
    contenders = 2
    rounds = 10
    agents = [AgentFactory() for _ in range(contenders)]
    _room_for(agents, rounds)
    wins: Counter[int] = Counter()

    for _ in range(rounds):
        chat = start_chat(topic=topic)

        def take(index: int, chat_id: int = chat.pk) -> int:
            return services.chat_assign(
                chat_id=chat_id, agent=agents[index], assigned_by=agents[index]
            ).agent_id

        results = run_threads(take, contenders)
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1, results
        assert len(losers) == contenders - 1, results
        assert all(isinstance(exc, ChatAlreadyAssigned) for exc in losers), results
        winner_index = results.index(winners[0])
        assert winners[0] == agents[winner_index].pk
        wins[winner_index] += 1

        chat.refresh_from_db()
        assert chat.status == Chat.Status.ACTIVE
        assert chat.agent_id == agents[winner_index].pk
        assert ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.ASSIGNED).count() == 1
        joined = Message.objects.filter(chat=chat, kind="system", body__endswith="joined the chat.")
        assert joined.count() == 1
        seqs = list(Message.objects.filter(chat=chat).values_list("seq", flat=True))
        assert seqs == list(range(1, chat.last_seq + 1))
    print(f"take races won by agent index: {dict(wins)}")


def test_many_agents_taking_one_chat_at_once_exactly_one_wins(postgres: None) -> None:
    agents = [AgentFactory() for _ in range(THREADS)]
    _room_for(agents, THREADS)
    chat = start_chat()

    results = run_threads(
        lambda i: services.chat_assign(chat_id=chat.pk, agent=agents[i]).agent_id, THREADS
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ChatAlreadyAssigned) for r in results if r not in winners), results
    chat.refresh_from_db()
    assert chat.agent_id == winners[0]
    assert ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.ASSIGNED).count() == 1
