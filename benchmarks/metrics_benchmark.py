"""Benchmark: the metrics and the chat admin list over 100,000 chats and 2,000,000 messages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk python benchmarks/metrics_benchmark.py

The script works in its own database, `helpdesk_bench` on the same server (created and
migrated if missing), so it never touches the data behind DATABASE_URL. The data is generated
by PostgreSQL itself with INSERT ... SELECT over generate_series: one statement per table, no
rows travel from Python, which is ~20x faster than bulk_create in batches. A second run reuses
the data. Timings are the best of 3 calls, measured after one warm-up call.
"""

import os
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

CHATS = 100_000
MESSAGES_PER_CHAT = 20  # 2,000,000 messages
DAYS = 90  # chats spread over the last 90 days; the benchmark asks for the last 30
BENCH_DB = "helpdesk_bench"


def _bench_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://...).")
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def _create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


def _setup_django() -> None:
    url = _bench_url(os.environ.get("DATABASE_URL", ""))
    _create_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# Chats: 60 % closed normally, 10 % abandoned in the queue, the rest active; times in seconds
# after creation vary with the id so averages are not trivial.
CHATS_SQL = """
INSERT INTO chat_chat (
    topic_id, customer_id, agent_id, status, customer_key, last_seq, created_at, assigned_at,
    first_agent_response_at, queue_priority, closed_at, closed_by, close_reason,
    transfer_count, transfer_note
)
SELECT
    topics[1 + i %% array_length(topics, 1)],
    customers[1 + i %% array_length(customers, 1)],
    CASE WHEN i %% 10 = 0 THEN NULL ELSE agents[1 + i %% array_length(agents, 1)] END,
    CASE WHEN i %% 10 = 0 OR i %% 10 > 3 THEN 'closed' ELSE 'active' END,
    md5(i::text), %(per_chat)s, created,
    CASE WHEN i %% 10 = 0 THEN NULL ELSE created + (i %% 120) * interval '1 second' END,
    CASE WHEN i %% 10 = 0 THEN NULL ELSE created + (30 + i %% 300) * interval '1 second' END,
    0,
    CASE WHEN i %% 10 = 0 OR i %% 10 > 3 THEN created + (600 + i %% 900) * interval '1 second' END,
    CASE WHEN i %% 10 = 0 THEN 'customer' WHEN i %% 10 > 3 THEN 'agent' ELSE '' END,
    CASE WHEN i %% 10 = 0 THEN 'abandoned' ELSE '' END,
    CASE WHEN i %% 17 = 0 THEN 1 ELSE 0 END,
    ''
FROM generate_series(1, %(chats)s) AS i,
     LATERAL (SELECT now() - (i::float / %(chats)s) * %(days)s * interval '1 day' AS created) AS t,
     (SELECT array_agg(id) AS topics FROM helpdesk_topic WHERE slug LIKE 'bench-%%') AS tp,
     (SELECT array_agg(id) AS customers FROM helpdesk_customer WHERE name LIKE 'Bench %%') AS cu,
     (SELECT array_agg(id) AS agents FROM auth_user WHERE username LIKE 'bench-agent-%%') AS ag
"""

# Odd seq: the customer; even: the agent, whose replies are canned/greeting/hold one time in
# four and carry a tone warning one time in fifty.
MESSAGES_SQL = """
INSERT INTO chat_message (
    chat_id, seq, kind, author_id, body, client_msg_id, origin, tone_overrides, created_at
)
SELECT
    c.id, s,
    CASE WHEN s %% 2 = 1 OR c.agent_id IS NULL THEN 'customer' ELSE 'agent' END,
    CASE WHEN s %% 2 = 1 OR c.agent_id IS NULL THEN NULL ELSE c.agent_id END,
    'Message ' || s, '',
    CASE WHEN s %% 2 = 1 OR c.agent_id IS NULL THEN ''
         WHEN s = 2 THEN 'greeting' WHEN (c.id + s) %% 8 = 0 THEN 'canned'
         WHEN (c.id + s) %% 8 = 4 THEN 'hold' ELSE '' END,
    CASE WHEN s %% 2 = 0 AND (c.id + s) %% 50 = 0 THEN '["calm down"]'::jsonb
         ELSE '[]'::jsonb END,
    c.created_at + s * interval '20 seconds'
FROM chat_chat c, generate_series(1, %(per_chat)s) AS s
"""

RATINGS_SQL = """
INSERT INTO transcripts_rating (chat_id, score, comment, created_at, updated_at)
SELECT id, 1 + id %% 5, '', closed_at, closed_at
FROM chat_chat WHERE closed_at IS NOT NULL AND id %% 5 < 2
"""


def _ensure_data() -> None:
    from django.db import connection, transaction

    from chat.models import Chat, ReplyTally
    from chat.tallies import tallies_rebuild
    from helpdesk.models import Customer, Topic
    from tests.factories import AgentFactory

    if Chat.objects.count() >= CHATS:
        print(f"Reusing the {CHATS:,} chats already in {BENCH_DB}.")
        if not ReplyTally.objects.exists():
            _timed("Counted the reply tallies", tallies_rebuild)
        return
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE chat_chat CASCADE")
        Topic.objects.bulk_create(
            Topic(name=f"Bench topic {n}", slug=f"bench-{n}") for n in range(8)
        )
        Customer.objects.bulk_create(
            Customer(name=f"Bench customer {n}", email=f"c{n}@example.com") for n in range(5_000)
        )
        for n in range(40):
            AgentFactory(username=f"bench-agent-{n}", password="unused")  # noqa: S106
        params = {"chats": CHATS, "per_chat": MESSAGES_PER_CHAT, "days": DAYS}
        with connection.cursor() as cursor:
            for statement in (CHATS_SQL, MESSAGES_SQL, RATINGS_SQL):
                cursor.execute(statement, params)
        # The messages were inserted by SQL, not by message_post: count their tallies as the
        # migration does for an existing database.
        tallies_rebuild()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"Generated {CHATS:,} chats and {CHATS * MESSAGES_PER_CHAT:,} messages "
        f"in {time.perf_counter() - started:.1f} s."
    )


def _timed(label: str, call: Callable[[], object]) -> None:
    started = time.perf_counter()
    result = call()
    print(f"{label}: {result:,} rows in {time.perf_counter() - started:.1f} s.")


def _best_of_3(label: str, call: Callable[[], object]) -> None:
    from django.db import connection, reset_queries

    call()  # warm-up: connection, plan caches, pages in memory
    timings = []
    for _ in range(3):
        reset_queries()
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    queries = len(connection.queries)
    print(f"  {label:<44} {min(timings) * 1000:8.1f} ms   ({queries} queries)")


def main() -> None:
    _setup_django()
    import datetime

    from django.conf import settings
    from django.contrib import admin
    from django.contrib.admin.utils import lookup_field
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ObjectDoesNotExist
    from django.test import RequestFactory
    from django.utils import timezone

    from chat.admin import ChatAdmin
    from chat.models import Chat
    from routing.metrics import metrics

    settings.DEBUG = True  # records the queries, so the figures include their count
    _ensure_data()
    until = timezone.localdate()
    since = until - datetime.timedelta(days=29)
    in_range = Chat.objects.filter(created_at__date__gte=since).count()
    print(f"\nMetrics over {since} .. {until} ({in_range:,} chats), best of 3:")
    for group_by in ("day", "agent", "topic"):
        _best_of_3(
            f"metrics(group_by={group_by!r})",
            lambda g=group_by: metrics(since=since, until=until, group_by=g),
        )

    superuser, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    request = RequestFactory().get("/admin/chat/chat/")
    request.user = superuser
    chat_admin = ChatAdmin(Chat, admin.site)
    columns = chat_admin.get_list_display(request)

    def first_page() -> None:
        # What the changelist does for its rows: the admin's queryset, its select_related and
        # ordering, the first 100 rows, each list_display column resolved as the admin does.
        rows = (
            chat_admin.get_queryset(request)
            .select_related(*chat_admin.list_select_related)
            .order_by(*chat_admin.get_ordering(request))[:100]
        )
        for row in rows:
            for name in columns:
                # The changelist shows an empty cell for a missing reverse one-to-one.
                with suppress(ObjectDoesNotExist):
                    lookup_field(name, row, chat_admin)

    print("\nChat admin list, best of 3:")
    _best_of_3("first page: 100 rows with list_display", first_page)
    _best_of_3("the paginator's count(*)", lambda: chat_admin.get_queryset(request).count())

    # The whole pages as a supervisor's browser gets them: middleware, the view, its queries,
    # the template and (for metrics) the SVG charts.
    from django.test import Client

    from tests.factories import SupervisorFactory

    supervisor = get_user_model().objects.filter(username="bench-supervisor").first()
    supervisor = supervisor or SupervisorFactory(username="bench-supervisor")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(supervisor)

    def page(path: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")

        return get

    range_query = f"since={since}&until={until}"
    print("\nWhole pages (HTTP GET through Django, rendered), best of 3:")
    for group_by in ("day", "agent", "topic"):
        _best_of_3(
            f"/admin/metrics/?group_by={group_by}",
            page(f"/admin/metrics/?{range_query}&group_by={group_by}"),
        )
    _best_of_3(
        "/admin/metrics/ CSV export (day)", page(f"/admin/metrics/?{range_query}&format=csv")
    )
    _best_of_3("/admin/chat/chat/ (first page)", page("/admin/chat/chat/"))


if __name__ == "__main__":
    main()
