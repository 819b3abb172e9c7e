"""Each HTTP request closes its database connections when it ends (helpdesk.db): under ASGI a
request's persistent connection is never reused and would linger until garbage collection."""

import pytest
from django.db import connection


@pytest.mark.django_db(transaction=True)
def test_a_request_closes_its_connection_when_it_ends(client) -> None:
    connection.ensure_connection()

    assert client.get("/api/v1/public/topics/").status_code == 200

    assert connection.connection is None


@pytest.mark.django_db
def test_a_connection_inside_a_transaction_stays_open(client) -> None:
    assert connection.in_atomic_block  # the test's own transaction

    assert client.get("/api/v1/public/topics/").status_code == 200

    assert connection.connection is not None
