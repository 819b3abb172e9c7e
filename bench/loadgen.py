"""The open-loop load generator: one process, asyncio + websockets, driven by bench/run.py.

    python bench/loadgen.py --mode product --rows ROWS.json

`--mode`: `product` (the helpdesk's wire contract, docs/protocol.md), `relay` or `echo`
(bench/baselines.py). ROWS.json lists the chats: `{"chat", "token", "agent", "session",
"customer_port", "agent_port"}` (token and session for the product only).

The orchestrator writes one JSON command per line on stdin and reads one JSON answer per line
on stdout (logs go to stderr):

- `{"cmd": "connect"}`: open every socket (a customer and an agent per chat; the agents `take`
  their chats), answer when each has its first frame.
- `{"cmd": "step", "rate": R, "seconds": D, "tag": T}`: send R messages/s for D s, open loop
  (fixed intervals spread over the chats, alternating customer->agent and agent->customer per
  chat, a `typing` frame before every `typing_every`-th message). Each body carries the
  scheduled send time, so a late send counts in the latency (no coordinated omission). Then
  drain, resend what was not acked (same client_msg_id), `resume` what was acked but not
  delivered, and answer with the step's figures and the acked `client_msg_id -> seq` for the
  database audit.
- `{"cmd": "watch_restart", "killed_at": monotonic seconds}`: every socket reconnects (with
  backoff) after the server's SIGKILL and resumes; answer when all have, or at the deadline.
- `{"cmd": "quit"}`.

Latency is measured in this process alone (time.monotonic_ns on both ends), so no clocks need
to agree.
"""

import argparse
import asyncio
import contextlib
import json
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

CUSTOMER, AGENT = "c", "a"
OTHER = {CUSTOMER: AGENT, AGENT: CUSTOMER}
# How long a step waits for the last deliveries before it resends and resumes.
DRAIN_SECONDS = 10.0
# Handshakes in flight at once. The product's connects queue for its one database thread: 100
# at once made console handshakes wait past the 60 s timeout with 1,000 agents connecting.
CONNECT_CONCURRENCY = 20


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 2)}


@dataclass
class Sent:
    chat: int
    role: str
    frame: str
    scheduled_ns: int
    seq: int | None = None
    delivered: int = 0


@dataclass
class StepState:
    tag: str
    sent: dict[str, Sent] = field(default_factory=dict)
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: {"c2a": [], "a2c": []})
    ack_ms: list[float] = field(default_factory=list)
    duplicates: int = 0
    typing_received: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    recovered: int = 0


class Peer:
    """One socket: a chat's customer or its agent. Reconnects by itself (product mode)."""

    def __init__(self, gen: "Generator", chat: int, role: str, url: str, **connect: Any) -> None:
        self.gen, self.chat, self.role, self.url, self.connect_kwargs = (
            gen,
            chat,
            role,
            url,
            connect,
        )
        self.ws: ClientConnection | None = None
        self.seqs: set[int] = set()  # message seqs of its chat received (product)
        self.live_ids: set[str] = set()  # bench messages received live, for duplicates
        self.first_frame = asyncio.Event()
        self.resumed = asyncio.Event()
        self.taken = asyncio.Event()
        # Between a `resume` and its `resumed`: a message seen before is the replay, which
        # the protocol allows, not a duplicate.
        self.replaying = False
        self.reconnects = 0
        # When the last reconnection was made and its resume answered (monotonic seconds).
        self.reconnected_at = 0.0
        self.resumed_at = 0.0
        self.stopped = False
        self.task: asyncio.Task[None] | None = None

    def highest_contiguous(self) -> int:
        n = 0
        while n + 1 in self.seqs:
            n += 1
        return n

    async def open(self) -> None:
        self.first_frame.clear()
        self.ws = await websockets.connect(
            self.url,
            compression=None,
            proxy=None,
            ping_interval=None,
            open_timeout=120,
            close_timeout=2,
            max_queue=None,
            **self.connect_kwargs,
        )
        self.task = asyncio.create_task(self.read(self.ws))

    async def send(self, frame: str) -> None:
        ws = self.ws
        if ws is None:
            return
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(frame)

    async def read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self.gen.on_frame(self, json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        code = ws.close_code
        self.gen.on_close(self, code)
        if self.gen.mode == "product" and not self.stopped and code not in (4001, 4003, 4004):
            await self.reconnect()

    async def reconnect(self) -> None:
        self.resumed.clear()
        delay = 0.1
        while not self.stopped:
            await asyncio.sleep(delay * (0.5 + random.random()))
            try:
                await self.open()
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                delay = min(delay * 2, 2.0)
                continue
            self.reconnects += 1
            self.reconnected_at = time.monotonic()
            await self.send(self.resume_frame())
            return

    def resume_frame(self, after_seq: int | None = None) -> str:
        self.replaying = True
        frame: dict[str, Any] = {
            "type": "resume",
            "after_seq": self.highest_contiguous() if after_seq is None else after_seq,
        }
        if self.role == AGENT:
            frame["chat"] = self.chat
        return json.dumps(frame)


class Generator:
    def __init__(self, mode: str, rows: list[dict[str, Any]], typing_every: int) -> None:
        self.mode = mode
        self.typing_every = typing_every
        self.pairs: list[tuple[Peer, Peer]] = []
        for row in rows:
            self.pairs.append(
                (self._peer(row, CUSTOMER), self._peer(row, AGENT)),
            )
        self.by_chat = {pair[0].chat: pair for pair in self.pairs}
        self.step: StepState = StepState(tag="setup")
        self.counter = 0
        self.tasks: set[asyncio.Task[None]] = set()

    def _peer(self, row: dict[str, Any], role: str) -> Peer:
        port = row["customer_port"] if role == CUSTOMER else row["agent_port"]
        base = f"ws://127.0.0.1:{port}"
        if self.mode != "product":
            return Peer(self, row["chat"], role, f"{base}/ws/{self.mode}/{row['chat']}/{role}/")
        if role == CUSTOMER:
            return Peer(self, row["chat"], role, f"{base}/ws/chat/{row['token']}/")
        return Peer(
            self,
            row["chat"],
            role,
            f"{base}/ws/console/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"sessionid={row['session']}"},
        )

    @property
    def peers(self) -> list[Peer]:
        return [peer for pair in self.pairs for peer in pair]

    # --- frames in ---------------------------------------------------------------------------
    def on_frame(self, peer: Peer, frame: dict[str, Any]) -> None:
        now = time.monotonic_ns()
        peer.first_frame.set()
        kind = frame.get("type")
        step = self.step
        if kind == "message":
            cid = frame.get("client_msg_id") or ""
            if "seq" in frame and frame.get("chat", peer.chat) == peer.chat:
                peer.seqs.add(frame["seq"])
            sent = step.sent.get(cid)
            if self.mode == "echo" and sent is not None:
                self._ack(sent, now)
            if sent is None or (self.mode != "echo" and sent.role == peer.role):
                return  # its own message echoed back, or an earlier step's
            if cid in peer.live_ids:
                step.duplicates += not peer.replaying
                return
            peer.live_ids.add(cid)
            sent.delivered += 1
            if peer.replaying:
                step.recovered += 1  # delivered by `resume`, not live: no latency
                return
            direction = "c2a" if sent.role == CUSTOMER else "a2c"
            step.latency_ms[direction].append((now - sent.scheduled_ns) / 1e6)
        elif kind == "ack":
            sent = step.sent.get(frame.get("client_msg_id") or "")
            if sent is not None and sent.seq is None:
                sent.seq = frame.get("seq", 0)
                step.ack_ms.append((now - sent.scheduled_ns) / 1e6)
        elif kind == "typing":
            step.typing_received += 1
        elif kind == "resumed":
            if not frame.get("more"):
                peer.replaying = False
                peer.resumed_at = time.monotonic()
                peer.resumed.set()
            else:
                self._spawn(peer.send(peer.resume_frame(frame["last_seq"])))
        elif kind == "chat" and frame.get("id") == peer.chat and frame.get("status") == "active":
            peer.taken.set()
        elif kind == "error":
            step.errors[frame.get("code", "?")] += 1

    def _ack(self, sent: Sent, now: int) -> None:
        if sent.seq is None:
            sent.seq = 0
            self.step.ack_ms.append((now - sent.scheduled_ns) / 1e6)

    def on_close(self, peer: Peer, code: int | None) -> None:
        if not peer.stopped:
            self.step.closes[str(code)] += 1

    # --- commands ----------------------------------------------------------------------------
    async def connect(self, deadline_s: float) -> dict[str, Any]:
        """Open every socket; each agent takes its chat as soon as its console is open. Pairs
        that are not complete by the deadline are closed and left out of the steps."""
        started = time.monotonic()
        deadline = started + deadline_s
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        done = 0

        async def one(peer: Peer) -> None:
            nonlocal done
            async with gate:
                if time.monotonic() > deadline:
                    raise TimeoutError("not tried: connect deadline passed")
                await peer.open()
                if self.mode != "product":
                    return  # the baselines say nothing until spoken to
                await asyncio.wait_for(peer.first_frame.wait(), 120)
                if peer.role == AGENT:
                    await peer.send(json.dumps({"type": "take", "chat": peer.chat}))
                    await asyncio.wait_for(peer.taken.wait(), 120)
            done += 1
            if done % 200 == 0:
                log(f"connected {done} sockets in {time.monotonic() - started:.1f} s")

        results = await asyncio.gather(*(one(p) for p in self.peers), return_exceptions=True)
        outcome = dict(zip(self.peers, results, strict=True))
        failed = [repr(r) for r in results if isinstance(r, BaseException)]
        usable = [pair for pair in self.pairs if not any(outcome[p] for p in pair)]
        for pair in self.pairs:
            if pair not in usable:
                for peer in pair:
                    peer.stopped = True
                    if peer.ws is not None:
                        await peer.ws.close()
        self.pairs = usable
        self.by_chat = {pair[0].chat: pair for pair in usable}
        return {
            "sockets": 2 * len(usable),
            "chats_usable": len(usable),
            "ready_s": round(time.monotonic() - started, 2),
            "failed": sorted(set(failed))[:10],
            "failed_count": len(failed),
            "errors": dict(self.step.errors),
        }

    async def run_step(self, rate: float, seconds: float, tag: str) -> dict[str, Any]:
        step = self.step = StepState(tag=tag)
        total = int(rate * seconds)
        interval_ns = int(1e9 / rate)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        start_ns = time.monotonic_ns() + 50_000_000
        k = 0
        while k < total:
            now = time.monotonic_ns()
            while k < total and start_ns + k * interval_ns <= now:
                self._send_one(k, start_ns + k * interval_ns)
                k += 1
            if k < total:
                wait = (start_ns + k * interval_ns - time.monotonic_ns()) / 1e9
                await asyncio.sleep(max(wait, 0.0005))
        sending_s = (time.monotonic_ns() - start_ns) / 1e9
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        await self._drain(step, DRAIN_SECONDS)
        resent = await self._resend_unacked(step)
        await self._resume_undelivered(step)
        return self._figures(step, rate, seconds, sending_s, resent, cpu_before, cpu_after)

    def _send_one(self, k: int, scheduled_ns: int) -> None:
        chat_index = k % len(self.pairs)
        turn = k // len(self.pairs)
        role = CUSTOMER if (turn + chat_index) % 2 == 0 else AGENT
        peer = self.pairs[chat_index][0 if role == CUSTOMER else 1]
        self.counter += 1
        cid = f"{self.step.tag}-{role}-{self.counter}"
        frame: dict[str, Any] = {
            "type": "message",
            "body": f"{cid} {scheduled_ns}",
            "client_msg_id": cid,
        }
        if role == AGENT:
            frame["chat"] = peer.chat
        text = json.dumps(frame)
        self.step.sent[cid] = Sent(peer.chat, role, text, scheduled_ns)
        if self.mode == "product" and self.typing_every and turn % self.typing_every == 0:
            typing = {"type": "typing", "chat": peer.chat} if role == AGENT else {"type": "typing"}
            self._spawn(peer.send(json.dumps(typing)))
        # Not awaited: one socket slow to take a frame must not hold up the schedule.
        self._spawn(peer.send(text))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _missing(self, step: StepState) -> bool:
        return any(s.seq is None or not s.delivered for s in step.sent.values())

    async def _drain(self, step: StepState, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._missing(step):
            await asyncio.sleep(0.05)

    async def _resend_unacked(self, step: StepState) -> int:
        """The protocol's rule: resend with the same client_msg_id until the ack arrives."""
        if self.mode != "product":
            return 0
        unacked = [s for s in step.sent.values() if s.seq is None]
        for sent in unacked:
            await self.by_chat[sent.chat][0 if sent.role == CUSTOMER else 1].send(sent.frame)
        if unacked:
            await self._drain(step, DRAIN_SECONDS)
        return len(unacked)

    async def _resume_undelivered(self, step: StepState) -> None:
        """Acked but not delivered: what a client that saw a gap does (resume)."""
        if self.mode != "product":
            return
        waiting = [s for s in step.sent.values() if s.seq is not None and not s.delivered]
        receivers: dict[int, Peer] = {}
        for sent in waiting:
            receivers[sent.chat] = self.by_chat[sent.chat][1 if sent.role == CUSTOMER else 0]
        for peer in receivers.values():
            peer.resumed.clear()
            await peer.send(peer.resume_frame(peer.highest_contiguous()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(p.resumed.wait() for p in receivers.values())), DRAIN_SECONDS
            )

    def _figures(
        self,
        step: StepState,
        rate: float,
        seconds: float,
        sending_s: float,
        resent: int,
        cpu_before: Any,
        cpu_after: Any,
    ) -> dict[str, Any]:
        sent = step.sent.values()
        acked = [s for s in sent if s.seq is not None]
        delivered_live = sum(len(v) for v in step.latency_ms.values())
        gen_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (
            cpu_before.ru_utime + cpu_before.ru_stime
        )
        both = step.latency_ms["c2a"] + step.latency_ms["a2c"]
        return {
            "tag": step.tag,
            "rate": rate,
            "seconds": seconds,
            "sending_s": round(sending_s, 2),
            "sent": len(step.sent),
            "acked": len(acked),
            "unacked": len(step.sent) - len(acked),
            "resent": resent,
            "delivered_live": delivered_live,
            "recovered_by_resume": step.recovered,
            # The baselines store nothing: what never came back is lost, acked or not.
            "lost": sum(1 for s in (acked if self.mode == "product" else sent) if not s.delivered),
            "duplicates": step.duplicates,
            "typing_received": step.typing_received,
            "errors": dict(step.errors),
            "closes": dict(step.closes),
            "latency_ms": {
                "c2a": percentiles(step.latency_ms["c2a"]),
                "a2c": percentiles(step.latency_ms["a2c"]),
                "both": percentiles(both),
                "ack": percentiles(step.ack_ms),
            },
            "generator_cpu_s": round(gen_cpu, 2),
            "acked_ids": {cid: s.seq for cid, s in step.sent.items() if s.seq is not None},
            "reconnects": sum(p.reconnects for p in self.peers),
        }

    async def watch_restart(self, killed_at: float, timeout: float) -> dict[str, Any]:
        """Every socket back and resumed after the server's restart (the peers reconnect by
        themselves as soon as they see the close)."""
        self.step = StepState(tag="restart")
        peers = self.peers
        deadline = killed_at + timeout
        waits = [p.resumed.wait() for p in peers]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), max(0.1, deadline - time.monotonic()))
        done = [p for p in peers if p.resumed.is_set()]

        def timeline(times: list[float]) -> dict[str, float]:
            """Seconds after the kill by which 10, 50, 90 and 100 % of the sockets were."""
            times = sorted(t - killed_at for t in times)
            if not times:
                return {}
            return {
                f"p{q}": round(times[min(len(times) - 1, len(times) * q // 100)], 2)
                for q in (10, 50, 90, 100)
            }

        return {
            "sockets": len(peers),
            "resumed": len(done),
            "reconnected_s": timeline([p.reconnected_at for p in done]),
            "resumed_s": timeline([p.resumed_at for p in done]),
            "all_resumed_s": round(time.monotonic() - killed_at, 2)
            if len(done) == len(peers)
            else None,
            "errors": dict(self.step.errors),
            "closes": dict(self.step.closes),
        }

    async def prepare_restart(self) -> dict[str, Any]:
        for peer in self.peers:
            peer.resumed.clear()
        return {"ok": True}

    async def quit(self) -> None:
        for peer in self.peers:
            peer.stopped = True
        await asyncio.gather(
            *(p.ws.close() for p in self.peers if p.ws is not None), return_exceptions=True
        )


async def serve(gen: Generator) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        cmd = command.pop("cmd")
        if cmd == "quit":
            await gen.quit()
            answer: dict[str, Any] = {"ok": True}
        elif cmd == "connect":
            answer = await gen.connect(command.get("deadline_s", 600))
        elif cmd == "step":
            answer = await gen.run_step(command["rate"], command["seconds"], command["tag"])
        elif cmd == "prepare_restart":
            answer = await gen.prepare_restart()
        elif cmd == "watch_restart":
            answer = await gen.watch_restart(command["killed_at"], command["timeout"])
        else:
            answer = {"error": f"unknown command {cmd}"}
        print(json.dumps(answer), flush=True)
        if cmd == "quit":
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["product", "relay", "echo"], required=True)
    parser.add_argument("--rows", required=True)
    parser.add_argument("--typing-every", type=int, default=5)
    args = parser.parse_args()
    with open(args.rows) as f:
        rows = json.load(f)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    asyncio.run(serve(Generator(args.mode, rows, args.typing_every)))


if __name__ == "__main__":
    main()
