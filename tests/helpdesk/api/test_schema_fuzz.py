"""Schemathesis against the live schema: every integrator endpoint (/api/v1/ but the public
widget's and the console's), called in-process through Django's WSGI application with a
supervisor's write token, must never answer 5xx and must answer as documented (status codes,
content types, bodies and headers).

Bounded for CI: a fixed seed, deterministic generation, a few examples per operation and no
shrinking; the whole module runs in well under a minute. On-commit work (emails, webhooks,
live frames) never runs here: the test's transaction is never committed.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, strategies
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_support import fresh_cache
from tests.factories import (
    ArticleFactory,
    CannedResponseFactory,
    ClosedChatFactory,
    ConsoleSupervisorFactory,
    RatingFactory,
    TicketFactory,
    TicketReplyFactory,
    TopicFactory,
    api_token_for,
)

# Integrator endpoints only: the public widget API and the console's have their own tests.
INTEGRATOR_PATHS = r"^/api/v1/(?!public/|console/)"
MAX_EXAMPLES = 10

# Explicit: no schemathesis.toml found on the way up may change what CI runs.
CONFIG = schemathesis.Config()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass(frozen=True)
class Seeded:
    token: str
    # Existing ids by the name of the path parameter or body field that takes them: random ids
    # almost never exist, and the answers for existing rows must conform too.
    ids: dict[str, int]


@pytest.fixture(autouse=True)
def _cache(settings: Any) -> Iterator[None]:
    yield from fresh_cache(settings)


@pytest.fixture
def seeded(db: None, settings: Any) -> Iterator[Seeded]:
    """A supervisor who also answers chats (so agent-only writes are reached), with a write
    token fast enough for every example, and a row of each resource."""
    # On-commit work never runs in this (never committed) test; if it ever did, no real mail.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = ConsoleSupervisorFactory()
    _token, raw = api_token_for(user, scope="write", requests_per_minute=1_000_000)
    topic = TopicFactory()
    ticket = TicketFactory(topic=topic)
    TicketReplyFactory(ticket=ticket, author=user, body="<i>reply</i>")
    chat = ClosedChatFactory(topic=topic, agent=user, customer=ticket.customer)
    RatingFactory(chat=chat, comment="<b>ok</b>")
    ids = {
        "topic": topic.pk,
        "ticket": ticket.pk,
        "article": ArticleFactory(topic=topic, body="# Hi <script>x</script>").pk,
        "response": CannedResponseFactory(for_topic=True, topic=topic).pk,
        "customer": ticket.customer_id,
        "chat": chat.pk,
        "agent": user.pk,
    }
    # Django closes the database connection when a request ends (CONN_MAX_AGE 0), which would
    # close the test's own transaction under it: the test client disconnects these too.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield Seeded(token=raw, ids=ids)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _operations(config: Any) -> list[Any]:
    """The integrator operations of the schema exactly as /api/schema/ serves it."""
    # WSGIHandler, not get_wsgi_application(): Django is set up already, and setting it up
    # again would reconfigure logging under the test.
    loaded = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", WSGIHandler(), config=config
    ).include(path_regex=INTEGRATOR_PATHS)
    return [result.ok() for result in loaded.get_all_operations()]


def _fuzz(operation: Any, seeded: Seeded) -> None:
    """MAX_EXAMPLES cases of one operation, valid and invalid ones mixed (hostile input must be
    a documented 4xx, never a 5xx), some on existing rows, reproducibly (derandomize: the same
    cases every run), stopping at the first failure, unshrunk (CI time is better spent on more
    operations than on minimal examples)."""
    strategies_ = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    names = [p.name for p in operation.path_parameters]
    known = {name: str(seeded.ids[name.removesuffix("_id")]) for name in names}
    if names and all(name.removesuffix("_id") in seeded.ids for name in names):
        strategies_.append(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known)
        )
    cases = strategies.one_of(*strategies_)

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: Any) -> None:
        if case.meta.generation.mode is GenerationMode.POSITIVE and isinstance(case.body, dict):
            for field, value in case.body.items():
                # A valid id of a row that exists: the write may then succeed (a 201 to check).
                if field in seeded.ids and type(value) is int:
                    case.body[field] = seeded.ids[field]
        response = case.call(headers={"Authorization": f"Bearer {seeded.token}"})
        case.validate_response(response, checks=CHECKS)

    run()


def test_the_integrator_api_conforms_to_its_schema(seeded: Seeded, caplog: Any) -> None:
    # Hundreds of expected 4xx answers would each log a warning: keep the report readable.
    caplog.set_level(logging.ERROR, logger="django.request")
    operations = _operations(CONFIG)
    labels = {operation.label for operation in operations}
    # The fuzzing reaches every resource (a typo in the filter would quietly test nothing).
    for expected in (
        "GET /api/v1/topics/",
        "POST /api/v1/tickets/",
        "POST /api/v1/tickets/{ticket_id}/replies/",
        "POST /api/v1/articles/",
        "GET /api/v1/canned-responses/",
        "GET /api/v1/customers/{customer_id}/",
        "GET /api/v1/ratings/",
        "GET /api/v1/chats/{chat_id}/transcript.html",
        "GET /api/v1/metrics/",
    ):
        assert expected in labels, expected
    failures = []
    for operation in operations:
        try:
            _fuzz(operation, seeded)
        # Schemathesis' failures are a BaseExceptionGroup of AssertionErrors.
        except (Exception, BaseExceptionGroup) as error:  # each operation reports alone
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
