"""The load benchmark (bench/run.py) in its quick mode against the real stack: daphne, Redis,
PostgreSQL. Not a speed test: it asserts that the bench runs and that its audit finds every
acked message stored once and delivered once, so that `make bench` figures can be trusted.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.exclusive]

ROOT = Path(__file__).resolve().parent.parent.parent


def test_quick_bench_loses_and_duplicates_nothing(
    postgres: None, redis_url: str, tmp_path: Path
) -> None:
    # The suite's PostgreSQL server; the bench makes (and here drops) a database of its own.
    server = urlsplit(os.environ["DATABASE_URL"])._replace(path="", query="")
    name = f"helpdesk_loadbench_smoke_{uuid.uuid4().hex[:8]}"
    argv = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--quick",
        "--chats", "10",
        "--rates", "20",
        "--step-seconds", "3",
        "--skip", "two,baselines,restart,overload",
        "--postgres", urlunsplit(server),
        "--database", name,
        "--redis-url", redis_url,
        "--no-flush-redis",
        "--prefix", f"smoke{uuid.uuid4().hex[:8]}",
        "--var-dir", str(tmp_path / "var"),
        "--results", str(tmp_path / "results"),
    ]  # fmt: skip
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        [path] = (tmp_path / "results").glob("*.json")
        results: dict[str, Any] = json.loads(path.read_text())
    finally:
        _drop_database(server, name)

    assert results["hold"]["sockets"] == 20
    [step] = results["product"]
    assert step["sent"] == 60
    assert (step["acked"], step["lost"], step["duplicates"], step["unacked"]) == (60, 0, 0, 0)
    assert step["delivered_live"] + step["recovered_by_resume"] == 60
    audit = step["audit"]
    assert (audit["stored_once"], audit["acked_not_stored"], audit["stored_twice"]) == (60, 0, 0)
    assert audit["seq_mismatch"] == 0
    assert step["typing_received"] > 0
    assert not results["server_log_problems"]


def _drop_database(server: Any, name: str) -> None:
    import psycopg
    from psycopg import sql

    maintenance = urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
