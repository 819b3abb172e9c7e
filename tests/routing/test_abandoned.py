"""Abandoned chats: a queued chat whose customer has had no open socket for
HELPDESK_ABANDON_AFTER_SECONDS is closed as abandoned by the system, counted, never assigned.

Every case pins its clock: the sweep is given `now`, and the chat's timestamps are written
relative to it (no sleeps). On-commit callbacks run only inside `committed()`.
"""

import threading
from datetime import datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from chat import services as chat_services
from chat.errors import ChatClosed
from chat.models import Chat, ChatEvent, Message
from chat.services import Participant
from routing import selectors, services, tasks
from tests.chat.frames import assert_customer_safe
from tests.factories import TopicFactory
from tests.helpers import start_chat
from tests.routing.conftest import make_agent

pytestmark = pytest.mark.django_db

LIMIT = 120  # the documented default


@pytest.fixture(autouse=True)
def _abandon_default(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_ABANDON_AFTER_SECONDS = LIMIT
    settings.HELPDESK_ROUTING_POLICY = "routing.policies.ManualPolicy"  # no drain unless asked


def queued(*, topic=None, created: datetime, seen: datetime | None = None) -> Chat:  # type: ignore[no-untyped-def]
    """A queued chat created at `created`, its customer last seen at `seen` (None: never)."""
    chat = start_chat(topic=topic)
    Chat.objects.filter(pk=chat.pk).update(
        created_at=created, queued_at=created, customer_last_seen_at=seen
    )
    return chat


def status_of(chat: Chat) -> str:
    return Chat.objects.get(pk=chat.pk).status


# --- Who is abandoned -------------------------------------------------------------------------


def test_a_customer_who_never_connected_counts_from_the_chat_creation() -> None:
    now = timezone.now()
    gone = queued(created=now - timedelta(seconds=121))
    at_the_limit = queued(created=now - timedelta(seconds=120))  # not *more* than 120 s

    assert services.abandoned_sweep(now=now) == [gone.pk]
    assert (status_of(gone), status_of(at_the_limit)) == ("closed", "queued")


def test_a_customer_seen_recently_keeps_an_old_chat_queued() -> None:
    now = timezone.now()
    # Created 10 minutes ago; the customer's socket was last seen 119 s and 121 s ago.
    here = queued(created=now - timedelta(minutes=10), seen=now - timedelta(seconds=119))
    gone = queued(created=now - timedelta(minutes=10), seen=now - timedelta(seconds=121))

    assert services.abandoned_sweep(now=now) == [gone.pk]
    assert status_of(here) == "queued"


def test_the_longest_gone_is_closed_first() -> None:
    now = timezone.now()
    later = queued(created=now - timedelta(seconds=200))
    earlier = queued(created=now - timedelta(seconds=900), seen=now - timedelta(seconds=300))

    assert services.abandoned_sweep(now=now) == [earlier.pk, later.pk]


def test_active_and_closed_chats_are_never_abandoned() -> None:
    now = timezone.now()
    topic = TopicFactory()
    agent = make_agent(topics=[topic])
    active = queued(topic=topic, created=now - timedelta(hours=1))
    chat_services.chat_assign(chat_id=active.pk, agent=agent)
    closed = queued(topic=topic, created=now - timedelta(hours=1))
    chat_services.chat_close(chat_id=closed.pk, by=Participant.customer())

    assert services.abandoned_sweep(now=now) == []
    assert (status_of(active), status_of(closed)) == ("active", "closed")


# --- The customer's sockets move the clock ----------------------------------------------------


def test_a_customer_who_comes_back_before_the_limit_keeps_their_place() -> None:
    topic = TopicFactory()
    now = timezone.now()
    first = queued(topic=topic, created=now - timedelta(seconds=100))
    second = queued(topic=topic, created=now - timedelta(seconds=90))
    before = Chat.objects.values("queued_at", "queue_priority").get(pk=first.pk)

    # Gone 100 s, then the widget reconnects (a reload, a tunnel): the clock restarts.
    chat_services.customer_socket_opened(chat_id=first.pk, channel_name="c1")
    later = now + timedelta(seconds=LIMIT - 1)

    assert services.abandoned_sweep(now=later) == [second.pk]
    assert Chat.objects.values("queued_at", "queue_priority").get(pk=first.pk) == before
    (standing,) = selectors.queue_standings(topic_ids=[topic.pk])
    assert (standing.chat_id, standing.position) == (first.pk, 1)


def test_connect_heartbeat_and_disconnect_each_record_the_customer_as_seen() -> None:
    chat = queued(created=timezone.now() - timedelta(hours=1))
    for touch in (
        chat_services.customer_socket_opened,
        chat_services.customer_socket_alive,
        chat_services.customer_socket_closed,
    ):
        Chat.objects.filter(pk=chat.pk).update(customer_last_seen_at=None)
        before = timezone.now()
        touch(chat_id=chat.pk, channel_name="c1")
        seen = Chat.objects.get(pk=chat.pk).customer_last_seen_at
        assert seen is not None and before <= seen <= timezone.now(), touch.__name__


def test_the_limit_counts_from_the_customer_socket_closing() -> None:
    chat = queued(created=timezone.now() - timedelta(hours=1))
    chat_services.customer_socket_closed(chat_id=chat.pk, channel_name="c1")
    left = Chat.objects.get(pk=chat.pk).customer_last_seen_at

    assert services.abandoned_sweep(now=left + timedelta(seconds=LIMIT)) == []
    assert services.abandoned_sweep(now=left + timedelta(seconds=LIMIT + 1)) == [chat.pk]


# --- How it is closed and counted -------------------------------------------------------------


def test_an_abandoned_chat_is_closed_by_the_system_with_the_reason_recorded() -> None:
    now = timezone.now()
    chat = queued(created=now - timedelta(seconds=300))

    services.abandoned_sweep(now=now)

    closed = Chat.objects.get(pk=chat.pk)
    assert (closed.status, closed.closed_by, closed.closed_by_user, closed.close_reason) == (
        "closed",
        "system",
        None,
        "abandoned",
    )
    assert closed.agent is None and closed.assigned_at is None
    event = ChatEvent.objects.get(chat=chat, kind=ChatEvent.Kind.CLOSED)
    assert (event.actor, event.data) == (None, {"by": "system", "reason": "abandoned"})
    last = Message.objects.filter(chat=chat).last()
    assert (last.kind, last.body) == ("system", "Chat ended.")


def test_abandoned_chats_are_counted_per_topic_and_since_a_moment() -> None:
    returns, billing = TopicFactory(), TopicFactory()
    now = timezone.now()
    queued(topic=returns, created=now - timedelta(seconds=300))
    queued(topic=returns, created=now - timedelta(seconds=300))
    queued(topic=billing, created=now - timedelta(seconds=300))
    ordinary = queued(topic=billing, created=now)
    chat_services.chat_close(chat_id=ordinary.pk, by=Participant.customer())  # not abandoned

    services.abandoned_sweep(now=now)

    assert selectors.abandoned_chat_count() == 3
    assert selectors.abandoned_chat_count(topic_ids=[returns.pk]) == 2
    assert selectors.abandoned_chat_count(topic_ids=[billing.pk]) == 1
    assert selectors.abandoned_chat_count(since=timezone.now() + timedelta(seconds=1)) == 0


def test_ordinary_closes_keep_their_event_data_and_no_reason() -> None:
    chat = start_chat()
    chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())

    assert Chat.objects.get(pk=chat.pk).close_reason == ""
    assert ChatEvent.objects.get(chat=chat, kind="closed").data == {"by": "customer"}


def test_an_unknown_close_reason_is_refused_and_nothing_changes() -> None:
    chat = start_chat()
    with pytest.raises(ValueError, match="unknown close reason"):
        chat_services.chat_close(chat_id=chat.pk, by=Participant.system(), reason="bored")
    assert status_of(chat) == "queued"


# --- Never assigned ---------------------------------------------------------------------------


def test_an_abandoned_chat_is_never_assigned_afterwards(committed) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = queued(topic=topic, created=now - timedelta(seconds=300))

    services.abandoned_sweep(now=now)
    assert services.queue_drain() == []
    with pytest.raises(ChatClosed):
        chat_services.chat_assign(chat_id=chat.pk, agent=agent)
    assert not ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.ASSIGNED).exists()


def test_the_sweep_rechecks_under_the_chat_lock_and_leaves_a_chat_a_router_took(
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    """A router that locked the chat first and assigned it wins: the sweep, which read the
    chat as abandoned just before, finds it active under the lock and leaves it alone."""
    topic = TopicFactory()
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = queued(topic=topic, created=now - timedelta(seconds=300))
    stale = selectors.abandoned_chat_ids(now=now)
    chat_services.chat_assign(chat_id=chat.pk, agent=agent)  # the router, meanwhile
    monkeypatch.setattr(selectors, "abandoned_chat_ids", lambda now=None: stale)

    assert services.abandoned_sweep(now=now) == []
    assert status_of(chat) == "active"


def test_a_customer_back_between_the_read_and_the_lock_keeps_the_chat(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    chat = queued(created=now - timedelta(seconds=300))
    stale = selectors.abandoned_chat_ids(now=now)
    chat_services.customer_socket_opened(chat_id=chat.pk, channel_name="c1")
    monkeypatch.setattr(selectors, "abandoned_chat_ids", lambda now=None: stale)

    assert services.abandoned_sweep() == []
    assert status_of(chat) == "queued"


# --- Frames, after commit ---------------------------------------------------------------------


def test_frames_go_out_after_commit_to_the_right_audiences(published, committed) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    now = timezone.now()
    chat = queued(topic=topic, created=now - timedelta(seconds=300))
    behind = queued(topic=topic, created=now - timedelta(seconds=10))
    published.calls.clear()

    with committed():
        services.abandoned_sweep(now=now)
        assert published.calls == []  # nothing before commit

    customer_group = f"chat.{chat.pk}"
    (customer_frame,) = published.frames("chat", group=customer_group)
    assert (customer_frame["status"], customer_frame["closed_by"]) == ("closed", "system")
    assert_customer_safe(customer_frame)  # the customer frame is unchanged: no close_reason
    # The chat was queued: it leaves its topic's queue groups, and consoles watching it hear it.
    staff_groups = [f"queue.{topic.pk}", "queue.all", f"watch.{chat.pk}"]
    (staff_frame,) = published.frames("chat", group=f"queue.{topic.pk}")
    assert (staff_frame["id"], staff_frame["status"], staff_frame["close_reason"]) == (
        chat.pk,
        "closed",
        "abandoned",
    )
    assert published.groups_of("chat") == [[customer_group], staff_groups]
    (ended,) = published.frames("message")
    assert ended["body"] == "Chat ended." and ended["chat"] == chat.pk
    # The customer behind moves up (routing's receivers ran after commit).
    (standing,) = published.frames("queue", group=f"chat.{behind.pk}")
    assert standing["position"] == 1


# --- Settings, schedule, and who runs the sweep -----------------------------------------------


def test_the_limit_is_read_at_call_time(settings) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    chat = queued(created=now - timedelta(seconds=200))

    settings.HELPDESK_ABANDON_AFTER_SECONDS = 300
    assert services.abandoned_sweep(now=now) == []
    settings.HELPDESK_ABANDON_AFTER_SECONDS = 0  # off
    assert services.abandoned_sweep(now=now) == []
    settings.HELPDESK_ABANDON_AFTER_SECONDS = 199
    assert services.abandoned_sweep(now=now) == [chat.pk]


def test_beat_runs_both_timeout_sweeps_every_30_seconds_with_tasks_that_exist() -> None:
    from helpdesk.celery import app

    app.loader.import_default_modules()
    schedule = {
        entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["routing.tasks.abandoned_sweep"] == 30.0
    assert schedule["routing.tasks.no_reply_sweep"] == 30.0
    assert set(schedule) <= set(app.tasks)


def test_the_task_closes_abandoned_chats() -> None:
    queued(created=timezone.now() - timedelta(seconds=300))
    assert tasks.abandoned_sweep() == 1


def test_the_presence_sweep_also_closes_abandoned_chats() -> None:
    chat = queued(created=timezone.now() - timedelta(seconds=300))
    services.presence_sweep()
    assert Chat.objects.get(pk=chat.pk).close_reason == "abandoned"


# --- Under real row locks (PostgreSQL) --------------------------------------------------------


def _in_thread(target):  # type: ignore[no-untyped-def]
    from django.db import connection

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


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_postgres_a_router_holding_the_chat_wins_and_the_sweep_skips_it(postgres) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    topic = TopicFactory()
    agent = make_agent(topics=[topic])
    now = timezone.now()
    chat = queued(topic=topic, created=now - timedelta(seconds=300))
    locked, go = threading.Event(), threading.Event()

    def router() -> None:
        with transaction.atomic():
            Chat.objects.select_for_update().get(pk=chat.pk)
            locked.set()
            go.wait(10)
            chat_services.chat_assign(chat_id=chat.pk, agent=agent)

    thread, errors = _in_thread(router)
    assert locked.wait(10)
    assert services.abandoned_sweep(now=now) == []  # skipped at once, not waited for
    go.set()
    thread.join(10)

    assert errors == []
    assert services.abandoned_sweep(now=now) == []  # active now: no longer abandoned
    assert status_of(chat) == "active"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_postgres_a_drain_during_the_close_never_assigns_the_chat(postgres, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    topic = TopicFactory()
    make_agent(topics=[topic])
    now = timezone.now()
    chat = queued(topic=topic, created=now - timedelta(seconds=300))
    closed, go = threading.Event(), threading.Event()
    real_close = chat_services.chat_close

    def slow_close(**kwargs):  # type: ignore[no-untyped-def]
        result = real_close(**kwargs)
        closed.set()  # closed, not yet committed: the row is still locked
        go.wait(10)
        return result

    monkeypatch.setattr(chat_services, "chat_close", slow_close)
    swept: list[int] = []
    thread, errors = _in_thread(lambda: swept.extend(services.abandoned_sweep(now=now)))
    assert closed.wait(10)
    assert services.queue_drain() == []  # the locked chat is skipped
    go.set()
    thread.join(10)

    assert (errors, swept) == ([], [chat.pk])
    assert services.queue_drain() == []
    assert status_of(chat) == "closed"
    assert not ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.ASSIGNED).exists()
