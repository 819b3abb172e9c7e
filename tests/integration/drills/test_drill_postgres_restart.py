"""Drill: PostgreSQL restarted under a live daphne.

A daphne runs on a private PostgreSQL cluster (a copy of this test's database). The cluster
is stopped as if it crashed (`pg_ctl -m immediate`) while a customer and an agent are connected:
their frames are answered with `unavailable` error frames, the sockets stay open, and the HTTP
API answers `503` in JSON. The cluster comes back on the same port and everything works again
without restarting daphne: the resent message is stored once, new chats start.
"""

import asyncio
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tests.conftest import LiveServer
from tests.factories import AgentFactory, TopicFactory
from tests.integration.conftest import WsClient, session_cookie_for
from tests.integration.drills.conftest import PrivatePostgres
from tests.integration.test_two_processes import post_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DATABASE = "drills_pg"


def copy_test_database(cluster: PrivatePostgres) -> str:
    """This test's committed database, schema and rows, copied into the private cluster (a
    second or so, where migrating a fresh one takes ~9 s)."""
    db = connection.settings_dict
    cluster.psql(f"CREATE DATABASE {DATABASE}")
    host, port = db["HOST"] or "127.0.0.1", str(db["PORT"] or 5432)
    dump = subprocess.Popen(
        ["pg_dump", "--no-owner", "-h", host, "-p", port, "-U", db["USER"], "-d", db["NAME"]],
        stdout=subprocess.PIPE,
    )
    subprocess.run(
        [*cluster.psql_argv(DATABASE), "-v", "ON_ERROR_STOP=1"],
        stdin=dump.stdout,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert dump.wait(timeout=60) == 0
    return cluster.url(DATABASE)


def request_json(url: str, payload: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of a GET, or a POST of `payload`, whatever the status."""
    try:
        if payload is None:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
                return response.status, json_body(response.read(), response.headers)
        return post_json(url, payload)
    except urllib.error.HTTPError as error:
        return error.code, json_body(error.read(), error.headers)


def json_body(raw: bytes, headers: Any) -> dict[str, Any]:
    assert headers.get_content_type() == "application/json", raw[:300]
    return json.loads(raw)


def test_postgres_restart_fails_clearly_then_recovers_without_restarting_daphne(
    postgres: None,
    private_postgres: PrivatePostgres,
    live_server_factory: Callable[..., LiveServer],
    live_env: dict[str, str],
) -> None:
    agent = AgentFactory()
    topic = TopicFactory(slug="returns", name="Returns")
    session = session_cookie_for(agent)
    database_url = copy_test_database(private_postgres)
    server = live_server_factory(env={**live_env, "DATABASE_URL": database_url})
    chat = {"name": "Ana", "email": "ana@example.com", "topic": topic.slug, "message": "Hi"}
    status, started = post_json(f"{server.url}/api/v1/public/chats/", chat)
    assert status == 201

    async def drill() -> None:
        customer = await WsClient.connect(started["ws_url"], name="customer")
        await customer.wait_type("chat")
        console = await WsClient.connect(
            f"{server.ws_url}/ws/console/", origin=server.url, session=session, name="console"
        )
        await console.wait_type("chats")
        await console.send(type="take", chat=started["id"])
        await customer.wait_type("chat", status="active")
        await customer.send(type="message", body="Before", client_msg_id="c-1")
        c1 = (await customer.wait_type("ack", client_msg_id="c-1"))["seq"]

        # --- PostgreSQL crashes. ------------------------------------------------------------
        await asyncio.to_thread(private_postgres.stop, mode="immediate")
        mark = len(customer.frames)
        await customer.send(type="message", body="During", client_msg_id="c-2")
        error = await customer.wait_for(lambda f: f["type"] == "error", start=mark, what="error")
        assert (error["code"], error["client_msg_id"]) == ("unavailable", "c-2"), error
        mark = len(console.frames)
        await console.send(type="message", chat=started["id"], body="Hm", client_msg_id="a-1")
        error = await console.wait_for(lambda f: f["type"] == "error", start=mark, what="error")
        assert (error["code"], error["client_msg_id"]) == ("unavailable", "a-1"), error
        # The sockets stay open and answer what needs no database.
        await customer.send(type="ping")
        await customer.wait_type("pong")
        assert not customer.closed.is_set() and not console.closed.is_set()

        for answer in (
            await asyncio.to_thread(request_json, f"{server.url}/api/v1/public/topics/"),
            await asyncio.to_thread(request_json, f"{server.url}/api/v1/public/chats/", chat),
        ):
            assert answer[0] == 503, answer
            assert answer[1]["code"] == "unavailable", answer

        # --- Back on the same port: the same daphne, the same sockets. ---------------------
        await asyncio.to_thread(private_postgres.start)
        await customer.send(type="message", body="During", client_msg_id="c-2")
        c2 = (await customer.wait_type("ack", client_msg_id="c-2"))["seq"]
        assert c2 == c1 + 1
        await console.wait_type("message", seq=c2)
        await console.send(type="message", chat=started["id"], body="Hm", client_msg_id="a-1")
        a1 = (await console.wait_type("ack", client_msg_id="a-1"))["seq"]
        assert (await customer.wait_type("message", seq=a1))["body"] == "Hm"
        await customer.close()
        await console.close()

    asyncio.run(drill())

    status, again = post_json(f"{server.url}/api/v1/public/chats/", chat)
    # A new chat (its id past the ones the crash skipped: sequences are logged ahead).
    assert status == 201 and again["id"] > started["id"]
    assert server.process.poll() is None, "daphne was restarted"
