"""The load benchmark of issue 8: `make bench`, or `python bench/run.py [--quick]`.

Sets up a fresh PostgreSQL database and Redis db, migrates, seeds one agent and one topic per
chat, starts the product's daphne (`python -m helpdesk.server`) pinned to core 0, starts chats
through the public API, and drives them with bench/loadgen.py pinned to core 1. Then the same
ramp against the two baselines of bench/baselines.py. Prints a table and writes everything
to bench/results/<timestamp>.json. bench/README.md says how to read it.
"""

import argparse
import concurrent.futures
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The knee: the highest step with p99 below this and nothing lost.
KNEE_P99_MS = 100.0
# A step this far past the knee ends the ramp (the next ones would only be slower).
STOP_P99_MS = 1000.0


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    core: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self, *, kill: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def settle(servers: list[Server], *, idle_pct: float = 10.0, limit_s: float = 20.0) -> float:
    """Wait (bounded) until the servers are about idle after the sockets' setup (takes,
    queue frames, presence writes), so that the first step does not pay for it. Returns the
    last one-second CPU sample, in percent of one core."""
    deadline = time.monotonic() + limit_s
    while True:
        before = sum(s.cpu_s() for s in servers)
        time.sleep(1.0)
        pct = 100 * (sum(s.cpu_s() for s in servers) - before)
        if pct < idle_pct or time.monotonic() > deadline:
            return round(pct, 1)


def cpu_pct(servers: list[Server], *, seconds: float) -> float:
    """The servers' CPU over `seconds`, in percent of one core."""
    before = sum(s.cpu_s() for s in servers)
    time.sleep(seconds)
    return round(100 * (sum(s.cpu_s() for s in servers) - before) / seconds, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.var = Path(args.var_dir)
        self.var.mkdir(parents=True, exist_ok=True)
        self.server_url = args.postgres.rstrip("/")
        self.db_url = f"{self.server_url}/{args.database}"
        self.redis_url = args.redis_url
        self.servers: list[Server] = []
        self.env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis_url,
            "HELPDESK_REDIS_PREFIX": args.prefix,
            "HELPDESK_VAR_DIR": str(self.var),
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            # Production-like: DEBUG keeps every SQL query in memory.
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-not-secret-" + "x" * 40,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            "HELPDESK_LOG_LEVEL": "WARNING",
            "HELPDESK_PUBLIC_CHAT_RATE": "100000/min",
            # The setup starts every chat before any socket opens (a widget opens its socket
            # at once): without this, chats still queued after 120 s of a slow setup are closed
            # as abandoned under the bench's feet.
            "HELPDESK_ABANDON_AFTER_SECONDS": "3600",
            "PYTHONUNBUFFERED": "1",
        }

    # --- setup -------------------------------------------------------------------------------
    def fresh_database(self) -> None:
        import psycopg
        import redis
        from psycopg import sql

        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
            name = sql.Identifier(self.args.database)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        if self.args.flush_redis:
            # The bench's own db number only: never FLUSHALL a shared Redis.
            redis.Redis.from_url(self.redis_url).flushdb()
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True
        )

    def seed(self, chats: int) -> list[dict[str, Any]]:
        out = self.var / "agents.json"
        subprocess.run(
            [PYTHON, str(BENCH / "seed.py"), str(chats), str(out)],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        return json.loads(out.read_text())

    def start_chats(self, port: int, agents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every chat through the public API, as a widget would start it."""

        def start(agent: dict[str, Any]) -> dict[str, Any]:
            body = json.dumps({"name": f"Customer {agent['agent']}", "topic": agent["topic"]})
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/public/chats/",
                data=body.encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                chat = json.loads(response.read())
            return {"chat": chat["id"], "token": chat["token"], **agent}

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            return list(pool.map(start, agents))

    # --- processes ---------------------------------------------------------------------------
    def start_server(self, app: str, *, core: str, port: int | None = None) -> Server:
        port = port or free_port()
        log_path = self.var / f"server-{app}-{port}.log"
        if app == "product":
            argv = [PYTHON, "-m", "helpdesk.server", "-b", "127.0.0.1", "-p", str(port)]
        else:
            argv = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
            argv += ["--websocket-max-message-size", "131072", f"bench.baselines:{app}"]
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                ["taskset", "-c", core, *argv],
                cwd=ROOT,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        server = Server(process, port, log_path, core)
        self.servers.append(server)
        self.wait_serving(server, http=app == "product")
        return server

    @staticmethod
    def wait_serving(server: Server, *, http: bool, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{server.log_path.read_text()[-3000:]}")
            try:
                if http:
                    url = f"http://127.0.0.1:{server.port}/api/v1/public/topics/"
                    with urllib.request.urlopen(url, timeout=5):
                        return
                with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise RuntimeError(f"server did not start:\n{server.log_path.read_text()[-3000:]}")

    @contextlib.contextmanager
    def generator(self, mode: str, rows: list[dict[str, Any]], core: str) -> Iterator["Gen"]:
        rows_path = self.var / f"rows-{mode}.json"
        rows_path.write_text(json.dumps(rows))
        process = subprocess.Popen(
            [
                "taskset",
                "-c",
                core,
                PYTHON,
                str(BENCH / "loadgen.py"),
                "--mode",
                mode,
                "--rows",
                str(rows_path),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.env,
        )
        gen = Gen(process)
        try:
            yield gen
            gen.call({"cmd": "quit"})
            process.wait(timeout=20)
        finally:
            # After a failure it may be busy with a command: it would never read `quit`.
            if process.poll() is None:
                process.kill()
                process.wait()

    # --- measurements ------------------------------------------------------------------------
    def ramp(self, gen: "Gen", servers: list[Server], label: str) -> list[dict[str, Any]]:
        steps = []
        for i, rate in enumerate(self.args.rates):
            step = self.step(gen, servers, rate, f"{label}{i}")
            steps.append(step)
            log(fmt_step(label, step))
            if not passes(step) and (step["lost"] or worst_p99(step) > STOP_P99_MS):
                break
            if not passes(step) and i > 0 and not passes(steps[-2]):
                break  # two failing steps in a row: past the knee
        return steps

    def step(self, gen: "Gen", servers: list[Server], rate: float, tag: str) -> dict[str, Any]:
        cpu0 = [s.cpu_s() for s in servers]
        rss0 = [s.rss_kb() for s in servers]
        step = gen.call(
            {"cmd": "step", "rate": rate, "seconds": self.args.step_seconds, "tag": tag}
        )
        cpu = sum(s.cpu_s() for s in servers) - sum(cpu0)
        acked = step.pop("acked_ids")
        step["server_cpu_s"] = round(cpu, 2)
        step["server_cpu_ms_per_msg"] = round(1000 * cpu / max(1, step["acked"]), 3)
        step["server_rss_kb"] = [s.rss_kb() for s in servers]
        step["server_rss_delta_kb"] = sum(step["server_rss_kb"]) - sum(rss0)
        step["delivered_per_s"] = round(step["delivered_live"] / step["sending_s"], 1)
        if gen.mode == "product":
            step["audit"] = self.audit(tag, acked)
            step["persisted_per_s"] = round(step["audit"]["stored_once"] / step["sending_s"], 1)
        return step

    def audit(self, tag: str, acked: dict[str, int]) -> dict[str, int]:
        """Every acked client_msg_id is in chat_message exactly once, with the acked seq."""
        import psycopg

        with psycopg.connect(self.db_url) as conn:
            rows = conn.execute(
                "SELECT client_msg_id, count(*), min(seq) FROM chat_message "
                "WHERE client_msg_id LIKE %s GROUP BY client_msg_id",
                [f"{tag}-%"],
            ).fetchall()
        stored = {cid: (count, seq) for cid, count, seq in rows}
        return {
            "acked": len(acked),
            "stored": len(stored),
            "stored_once": sum(1 for count, _ in stored.values() if count == 1),
            "acked_not_stored": sum(1 for cid in acked if cid not in stored),
            "stored_twice": sum(1 for count, _ in stored.values() if count > 1),
            "seq_mismatch": sum(
                1 for cid, seq in acked.items() if cid in stored and stored[cid][1] != seq
            ),
            "stored_not_acked": sum(1 for cid in stored if cid not in acked),
        }

    def product(self, rows_for: Any, results: dict[str, Any]) -> None:
        args = self.args
        server = self.start_server("product", core="0")
        rows = rows_for([server.port])
        started = time.monotonic()
        rows = self.start_chats(server.port, rows)
        results["setup"]["api_chats_s"] = round(time.monotonic() - started, 2)
        time.sleep(1)
        rss_before = server.rss_kb()
        with self.generator("product", rows, core="1") as gen:
            hold = gen.call({"cmd": "connect", "deadline_s": args.connect_deadline})
            settle([server])
            hold["idle_cpu_pct"] = cpu_pct([server], seconds=min(10.0, args.step_seconds))
            rss_after = server.rss_kb()
            hold["server_rss_before_kb"] = rss_before
            hold["server_rss_after_kb"] = rss_after
            hold["rss_per_socket_kb"] = round((rss_after - rss_before) / max(1, hold["sockets"]), 1)
            results["hold"] = hold
            log(
                f"hold: {hold['sockets']} sockets, {hold['rss_per_socket_kb']} KB/socket, "
                f"ready in {hold['ready_s']} s, failures {hold['failed_count']}, "
                f"idle CPU {hold['idle_cpu_pct']} %"
            )
            if not hold["chats_usable"]:
                raise RuntimeError(f"no chat could be set up: {hold['failed']}")
            steps = self.ramp(gen, [server], "p")
            results["product"] = steps
            results["knee"]["product"] = knee(steps)
            if "overload" not in args.skip and results["knee"]["product"]:
                rate = 3 * results["knee"]["product"]
                step = self.step(gen, [server], rate, "ov")
                step["server_rss_after_kb"] = server.rss_kb()
                results["overload"] = step
                log(fmt_step("overload", step))
            if "restart" not in args.skip:
                results["restart"] = self.restart(gen, server)
        results["server_log_problems"] = log_problems(server)
        server.stop()

    def restart(self, gen: "Gen", server: Server) -> dict[str, Any]:
        gen.call({"cmd": "prepare_restart"})
        killed_at = time.monotonic()
        server.stop(kill=True)
        restarted = self.start_server("product", core=server.core, port=server.port)
        up_s = time.monotonic() - killed_at
        watch = gen.call({"cmd": "watch_restart", "killed_at": killed_at, "timeout": 60})
        watch["server_up_s"] = round(up_s, 2)
        watch["redis_pool_errors"] = sum(
            "MaxConnectionsError" in line for line in log_problems(restarted)
        )
        log(
            f"restart: {watch['resumed']}/{watch['sockets']} resumed, all in "
            f"{watch['all_resumed_s']} s (server up in {watch['server_up_s']} s); seconds after "
            f"the kill, reconnected {watch['reconnected_s']}, resumed {watch['resumed_s']}"
        )
        # One more short step: the restarted server still delivers, nothing lost.
        after = self.step(gen, [restarted], self.args.rates[0], "rs")
        watch["after_step"] = after
        log(fmt_step("after restart", after))
        restarted.stop()
        return watch

    def two_processes(self, rows_for: Any, results: dict[str, Any]) -> None:
        """The product on two daphne processes, each on its own core; a chat's customer on one
        and its agent on the other. The generator shares core 1 with the second server."""
        a = self.start_server("product", core="0")
        b = self.start_server("product", core="1")
        rows = self.start_chats(a.port, rows_for([a.port, b.port]))
        with self.generator("product", rows, core="1") as gen:
            hold = gen.call({"cmd": "connect", "deadline_s": self.args.connect_deadline})
            results["two_processes_hold"] = hold
            if not hold["chats_usable"]:
                raise RuntimeError(f"no chat could be set up: {hold['failed']}")
            settle([a, b])
            steps = self.ramp(gen, [a, b], "t")
        results["two_processes"] = steps
        results["knee"]["two_processes"] = knee(steps)
        results["server_log_problems"] += log_problems(a) + log_problems(b)
        a.stop()
        b.stop()

    def baseline(self, app: str, results: dict[str, Any]) -> None:
        server = self.start_server(app, core="0")
        rows = [
            {"chat": i + 1, "customer_port": server.port, "agent_port": server.port}
            for i in range(self.args.chats)
        ]
        with self.generator(app, rows, core="1") as gen:
            results[f"{app}_hold"] = gen.call(
                {"cmd": "connect", "deadline_s": self.args.connect_deadline}
            )
            settle([server])
            steps = self.ramp(gen, [server], app[0])
        results[app] = steps
        results["knee"][app] = knee(steps)
        server.stop()

    def run(self) -> dict[str, Any]:
        args = self.args
        results: dict[str, Any] = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "args": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(args).items()},
            "machine": machine(),
            "setup": {},
            "knee": {},
            "server_log_problems": [],
            "phase_errors": {},
        }
        try:
            started = time.monotonic()
            self.fresh_database()
            results["setup"]["migrate_s"] = round(time.monotonic() - started, 2)
            # Two sets of agents and topics: the two-process run gets fresh chats.
            agents = self.seed(2 * args.chats)
            first, second = agents[: args.chats], agents[args.chats :]

            def rows_for(agent_rows: list[dict[str, Any]]) -> Any:
                def spread(ports: list[int]) -> list[dict[str, Any]]:
                    return [
                        {
                            **row,
                            "customer_port": ports[i % len(ports)],
                            "agent_port": ports[(i + 1) % len(ports)],
                        }
                        for i, row in enumerate(agent_rows)
                    ]

                return spread

            phases = [("product", lambda: self.product(rows_for(first), results))]
            if "two" not in args.skip:
                phases.append(("two", lambda: self.two_processes(rows_for(second), results)))
            if "baselines" not in args.skip:
                phases.append(("relay", lambda: self.baseline("relay", results)))
                phases.append(("echo", lambda: self.baseline("echo", results)))
            for name, phase in phases:
                try:
                    phase()
                except Exception as exc:
                    # One phase's failure is a finding; the others still measure.
                    log(f"phase {name} failed: {exc!r}")
                    results["phase_errors"][name] = repr(exc)[:2000]
                finally:
                    for server in self.servers:
                        server.stop()
        finally:
            for server in self.servers:
                server.stop()
        results["ratios"] = ratios(results["knee"])
        results["elapsed_s"] = round(time.monotonic() - started, 1)
        return results


class Gen:
    """The load generator process: one JSON command in, one JSON answer out."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.mode = process.args[process.args.index("--mode") + 1]  # type: ignore[union-attr]

    def call(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator died during {command}")
        return json.loads(line)


# --- reading the figures ---------------------------------------------------------------------
def worst_p99(step: dict[str, Any]) -> float:
    p99 = step["latency_ms"]["both"]["p99"]
    return float("inf") if p99 is None else p99


def passes(step: dict[str, Any]) -> bool:
    audit = step.get("audit", {})
    return (
        worst_p99(step) < KNEE_P99_MS
        and step["lost"] == 0
        and step["unacked"] == 0
        and not audit.get("acked_not_stored")
        and not audit.get("stored_twice")
    )


def knee(steps: list[dict[str, Any]]) -> float | None:
    """The highest rate with p99 < 100 ms and nothing lost. A lone failing step below it (a
    hiccup of a shared machine) does not hide it: the ramp ends after two failing steps."""
    return max((step["rate"] for step in steps if passes(step)), default=None)


def ratios(knees: dict[str, float | None]) -> dict[str, float | None]:
    def ratio(a: str, b: str) -> float | None:
        if knees.get(a) and knees.get(b):
            return round(knees[a] / knees[b], 2)  # type: ignore[operator]
        return None

    return {
        "product_vs_stock_relay": ratio("product", "relay"),
        "product_vs_bare_echo": ratio("product", "echo"),
        "two_processes_vs_one": ratio("two_processes", "product"),
    }


def log_problems(server: Server) -> list[str]:
    text = server.log_path.read_text(errors="replace")
    return [
        line[:300]
        for line in text.splitlines()
        if "Traceback" in line or "MaxConnectionsError" in line or " ERROR " in line
    ]


def machine() -> dict[str, Any]:
    import daphne
    import websockets

    versions = {
        "python": sys.version.split()[0],
        "daphne": daphne.__version__,
        "websockets": websockets.__version__,
    }
    with contextlib.suppress(Exception):
        import channels
        import channels_redis
        import django

        versions |= {
            "django": django.get_version(),
            "channels": channels.__version__,
            "channels_redis": channels_redis.__version__,
        }
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "versions": versions,
        "load_avg_at_start": os.getloadavg(),
    }


def fmt_p(p: float | None) -> str:
    return "-" if p is None else f"{p:.0f}"


def fmt_step(label: str, step: dict[str, Any]) -> str:
    lat = step["latency_ms"]
    persisted = step.get("persisted_per_s", "-")
    return (
        f"{label:>12} {step['rate']:>6.0f}/s  delivered {step['delivered_per_s']:>7}/s  "
        f"persisted {persisted!s:>7}/s  c2a p50/95/99 {fmt_p(lat['c2a']['p50'])}/"
        f"{fmt_p(lat['c2a']['p95'])}/{fmt_p(lat['c2a']['p99'])}  a2c "
        f"{fmt_p(lat['a2c']['p50'])}/{fmt_p(lat['a2c']['p95'])}/{fmt_p(lat['a2c']['p99'])} ms  "
        f"lost {step['lost']} dup {step['duplicates']} unacked {step['unacked']} "
        f"resumed {step['recovered_by_resume']} errors {step['errors'] or 0}  "
        f"cpu {step['server_cpu_ms_per_msg']} ms/msg"
    )


def print_report(results: dict[str, Any]) -> None:
    print("\n=== load benchmark (issue 8) ===")
    print(
        f"machine: {results['machine']['cpus']} cpus, {results['machine']['cpu']}; "
        f"load at start {results['machine']['load_avg_at_start']}"
    )
    hold = results.get("hold", {})
    if hold:
        print(
            f"sockets held: {hold['sockets']} ({hold['rss_per_socket_kb']} KB server RSS per "
            f"socket; {hold['server_rss_before_kb']} -> {hold['server_rss_after_kb']} KB); "
            f"opened and taken in {hold['ready_s']} s; {hold['failed_count']} sockets failed "
            f"{hold['failed'][:2]}; server CPU with all sockets idle {hold['idle_cpu_pct']} %"
        )
    for name in ("product", "two_processes", "relay", "echo"):
        if name in results:
            note = (
                " (generator shares core 1 with the 2nd server)" if name == "two_processes" else ""
            )
            print(f"\n{name}{note}:")
            for step in results[name]:
                print(fmt_step(name[:12], step))
                if "audit" in step:
                    print(f"{'':>14}audit {step['audit']}")
    if "overload" in results:
        print("\noverload (3x knee):")
        print(fmt_step("overload", results["overload"]))
        print(
            f"{'':>14}audit {results['overload'].get('audit')} closes "
            f"{results['overload']['closes']}"
        )
    if "restart" in results:
        r = results["restart"]
        print(
            f"\nrestart after SIGKILL: {r['resumed']}/{r['sockets']} reconnected and resumed, "
            f"all in {r['all_resumed_s']} s; Redis pool errors {r['redis_pool_errors']}"
        )
    print(f"\nknees (p99 < {KNEE_P99_MS:.0f} ms, nothing lost), msg/s: {results['knee']}")
    print(f"ratios: {results['ratios']}")
    if results["server_log_problems"]:
        print(
            f"server log problems: {len(results['server_log_problems'])}, first: "
            f"{results['server_log_problems'][:3]}"
        )
    for name, error in results["phase_errors"].items():
        print(f"phase {name} FAILED: {error[:500]}")
    print(f"elapsed {results['elapsed_s']} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 chats, short steps")
    parser.add_argument("--chats", type=int, help="chats (2 sockets each); default 1000")
    parser.add_argument("--rates", help="comma-separated msg/s steps of the ramp")
    parser.add_argument("--step-seconds", type=float, help="seconds per step; default 12")
    parser.add_argument(
        "--connect-deadline",
        type=float,
        default=120,
        help="seconds to open the sockets; chats not set up by then are left out",
    )
    parser.add_argument("--skip", default="", help="comma list of: two,baselines,restart,overload")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="the PostgreSQL server, without a database name",
    )
    parser.add_argument(
        "--database", default="helpdesk_loadbench", help="dropped and created afresh"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument(
        "--no-flush-redis",
        dest="flush_redis",
        action="store_false",
        help="keep the Redis db's keys (when the db is shared, e.g. by the test suite)",
    )
    parser.add_argument("--prefix", default="bench", help="HELPDESK_REDIS_PREFIX of the servers")
    parser.add_argument(
        "--var-dir", default=os.environ.get("HELPDESK_VAR_DIR", str(ROOT / "var" / "bench"))
    )
    parser.add_argument("--results", default=str(BENCH / "results"))
    args = parser.parse_args(argv)
    if args.quick:
        args.chats = args.chats or 20
        args.rates = args.rates or "20,50,100"
        args.step_seconds = args.step_seconds or 3
    args.chats = args.chats or 1000
    args.rates = [float(r) for r in (args.rates or "100,200,400,600,800,1000,1200,1600").split(",")]
    args.step_seconds = args.step_seconds or 12
    args.skip = {s for s in args.skip.split(",") if s}
    return args


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # so that `finally` stops the servers


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    results = Bench(args).run()
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    path = out / time.strftime("%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(results, indent=1))
    print_report(results)
    print(f"results: {path}")
    return results


if __name__ == "__main__":
    main()
