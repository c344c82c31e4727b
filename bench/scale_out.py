"""Scale-out on PostgreSQL + Redis, measured by CPU per message (the machine has 2 cores).

Runs the same load — ``--messages`` distinct encrypted OA text pushes at
``--concurrency`` (``wechat_oa_throughput.build_requests``), spread
round-robin over the servers — against, in turn:

* ``sqlite-1``: one ``kindbot serve`` on SQLite (the reference for "PostgreSQL
  ≤ 2× SQLite");
* ``pg-1``: one ``kindbot serve`` on PostgreSQL + Redis;
* ``pg-2+1``: two ``kindbot serve`` (different ports) + one ``kindbot worker``
  on the same PostgreSQL + Redis.

``kindbot serve`` runs the outbox, recovery and deferred-send workers in its
own process by default (``KINDBOT_SERVE_WORKERS``; this script leaves it on),
so in ``pg-2+1`` each server runs them too, beside the ``kindbot worker``.
``--keep-logs DIR`` copies each setup's server and worker stderr to
``DIR/SETUP.log``.

Every server is started through the CLI with the environment only
(``KINDBOT_DATABASE_URL``, ``KINDBOT_REDIS_URL``, ``KINDBOT_DATA_DIR``), on a
PostgreSQL database of its own (``bench_scale``, dropped afterwards) and Redis
database 7 (flushed). The OA channel's customer-service API is a WeChat API
simulator served by this script, so replies that miss the passive reply are
really sent — and counted.

For each setup it prints msg/s, p50/p99, and the **total CPU seconds per
message**: the kindbot processes (with their children) + the PostgreSQL
backends connected to the bench database + PostgreSQL's shared background
processes + redis-server (all from ``/proc``, before and after the load; the
shared processes also serve anyone else using those services). During the
load it samples ``pg_stat_activity`` every ``--sample-ms``: the share of busy
backend samples waiting on a ``Lock``, and on what (the waiting statement's
table, the lock type). After the load it waits for the outbox to drain and
checks every push: answered passively or with ``success`` (the reply budget
missed), every reply delivered exactly once (passive hand-over confirmed, or
a customer-service send the simulator received), none lost.

    .venv/bin/python bench/scale_out.py --messages 2000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench_services import drop_postgres, fresh_postgres, fresh_redis
from kindbot.testing.wechat_api import WeChatSimulator
from wechat_oa_throughput import (
    APP_ID,
    SECRET,
    USERS,
    applied_bundle,
    build_requests,
    cpu_seconds,
    drive,
    free_port,
    openid,
    question,
    start,
    until_idle,
    wait_until_up,
)

PATH = "/channels/bench.oa/callback"
PG_DATABASE = "bench_scale"
REDIS_DB = 7
FALLBACK = (b"success", b"")
TABLE = re.compile(r"\b(?:FROM|UPDATE|INTO)\s+([a-z_]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Setup:
    """One configuration under test."""

    name: str
    postgres: bool
    servers: int
    worker: bool


SETUPS = {
    "sqlite-1": Setup("sqlite-1", postgres=False, servers=1, worker=False),
    "pg-1": Setup("pg-1", postgres=True, servers=1, worker=False),
    "pg-2+1": Setup("pg-2+1", postgres=True, servers=2, worker=True),
}


def processes_named(name: str) -> list[int]:
    """Pids of the processes whose command (``/proc/PID/comm``) is ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def own_cpu(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` alone (None: gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class PostgresWatch:
    """Samples ``pg_stat_activity`` for the bench database and the CPU of its backends."""

    database: str
    backends: dict[int, tuple[float, float]] = field(default_factory=dict)
    """pid → (CPU when first seen, CPU when last seen)."""
    ticks: int = 0
    ticks_with_lock_wait: int = 0
    busy_samples: int = 0
    lock_waits: Counter[str] = field(default_factory=Counter)
    waits: Counter[str] = field(default_factory=Counter)

    @property
    def backend_cpu(self) -> float:
        return sum(last - first for first, last in self.backends.values())

    def _see(self, pid: int) -> None:
        cpu = own_cpu(pid)
        if cpu is not None:
            first = self.backends.get(pid, (cpu, cpu))[0]
            self.backends[pid] = (first, cpu)

    async def run(self, conn: asyncpg.Connection, interval: float, stop: asyncio.Event) -> None:
        mine = await conn.fetchval("SELECT pg_backend_pid()")
        query = """
            SELECT a.pid, a.state, a.wait_event_type, a.wait_event, l.locktype,
                   l.relation::regclass::text AS relation, left(a.query, 200) AS query
            FROM pg_stat_activity a
            LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
            WHERE a.datname = $1 AND a.pid <> $2
        """
        while not stop.is_set():
            rows = await conn.fetch(query, self.database, mine)
            self.ticks += 1
            waiting = False
            for row in rows:
                self._see(row["pid"])
                if row["state"] not in ("active", "idle in transaction"):
                    continue
                self.busy_samples += 1
                if row["wait_event_type"]:
                    self.waits[f"{row['wait_event_type']}:{row['wait_event']}"] += 1
                if row["wait_event_type"] == "Lock":
                    waiting = True
                    table = TABLE.search(row["query"] or "")
                    on = row["relation"] or (table.group(1) if table else "?")
                    self.lock_waits[f"{row['locktype']} on {on}"] += 1
            self.ticks_with_lock_wait += waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
        for pid in list(self.backends):
            self._see(pid)


@dataclass
class Result:
    """One setup's figures."""

    setup: Setup
    messages: int
    elapsed: float
    latencies: list[float]
    cpu: dict[str, float]
    """CPU seconds during the load by part (kindbot, postgres backends, …)."""
    watch: PostgresWatch | None
    checks: dict[str, int]

    @property
    def cpu_per_message(self) -> float:
        return sum(self.cpu.values()) / self.messages

    @property
    def own_cpu_per_message(self) -> float:
        """kindbot + the bench database's backends: no process anyone else uses."""
        return (self.cpu["kindbot"] + self.cpu.get("pg backends", 0.0)) / self.messages

    def lines(self) -> list[str]:
        ordered = sorted(self.latencies)
        p50 = ordered[len(ordered) // 2]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        parts = ", ".join(
            f"{name} {seconds / self.messages * 1000:.2f}" for name, seconds in self.cpu.items()
        )
        out = [
            f"{self.setup.name:<8} {self.messages / self.elapsed:6.1f} msg/s"
            f"   p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms"
            f"   total CPU {self.cpu_per_message * 1000:.2f} ms/msg ({parts})",
            "         " + ", ".join(f"{k} {v}" for k, v in self.checks.items()),
        ]
        if self.watch is not None:
            w = self.watch
            share = w.ticks_with_lock_wait / max(1, w.ticks)
            locked = sum(w.lock_waits.values())
            out.append(
                f"         pg_stat_activity: {w.ticks} samples, {share:.1%} with a backend waiting"
                f" on a Lock; {locked} of {w.busy_samples} busy backend samples"
                f" ({locked / max(1, w.busy_samples):.1%}) waiting on a Lock:"
                f" {dict(w.lock_waits.most_common(6))}"
            )
            out.append(f"         busy samples' wait events: {dict(w.waits.most_common(6))}")
        return out


async def serve_simulator(sim: WeChatSimulator, port: int) -> uvicorn.Server:
    server = uvicorn.Server(
        uvicorn.Config(sim.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    asyncio.get_running_loop().create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    return server


async def settled(url: str, tag: str, at_most: float = 90.0) -> None:
    """Wait until no reply of the load ``tag`` is still pending, handed over or being
    sent (a reply a worker claimed is ``sending`` until its send was recorded: counting
    it then would call it lost)."""
    engine = create_async_engine(url)
    try:
        deadline = time.monotonic() + at_most
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                left = await conn.scalar(
                    text(
                        "SELECT count(*) FROM outbox o JOIN contacts c ON c.id = o.contact_id"
                        " WHERE c.external_id LIKE :users"
                        " AND o.status IN ('pending', 'handed_over', 'sending')"
                    ),
                    {"users": f"{tag}-user-%"},
                )
            if not left:
                return
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def check(url: str, tag: str, answers: list[bytes], sim: WeChatSimulator) -> dict[str, int]:
    """Every push of the load ``tag`` against the database and the simulator."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            inbound = (
                await conn.execute(
                    text(
                        "SELECT m.id, m.text, m.status FROM messages m"
                        " JOIN contacts c ON c.id = m.contact_id"
                        " WHERE m.direction = 'inbound' AND c.external_id LIKE :users"
                    ),
                    {"users": f"{tag}-user-%"},
                )
            ).all()
            replies = (
                await conn.execute(
                    text(
                        "SELECT r.reply_to_id, o.status, o.handover, o.text, c.external_id"
                        " FROM messages r JOIN outbox o ON o.message_id = r.id"
                        " JOIN contacts c ON c.id = o.contact_id"
                        " WHERE r.direction = 'outbound' AND c.external_id LIKE :users"
                    ),
                    {"users": f"{tag}-user-%"},
                )
            ).all()
    finally:
        await engine.dispose()
    index_of = {question(tag, i, False): i for i in range(len(answers))}
    push_of: dict[int, list[str]] = {}
    for row in inbound:  # the text names the push (the stored dedupe key is a digest)
        push_of.setdefault(index_of[row.text], []).append(row.id)
    replies_of = Counter(row.reply_to_id for row in replies)
    delivered = [row for row in replies if row.status == "delivered"]
    passive = [row for row in delivered if row.handover is not None]
    api = Counter((row.external_id, row.text) for row in delivered if row.handover is None)
    sent: Counter[tuple[str, str]] = Counter()
    for message in sim.sent(APP_ID):
        if message.touser.startswith(f"{tag}-user-"):
            sent[(message.touser, json.loads(message.payload_json)["text"]["content"])] += 1
    failed = [i for i, body in enumerate(answers) if body.startswith((b"HTTP ", b"closed"))]
    fallback = [i for i, body in enumerate(answers) if body in FALLBACK]
    missed = sum(1 for i in fallback if any(replies_of[m] for m in push_of.get(i, [])))
    return {
        "pushes": len(answers),
        "stored once": sum(1 for ids in push_of.values() if len(ids) == 1),
        "stored twice+": sum(1 for ids in push_of.values() if len(ids) > 1),
        "not stored": len(answers) - len(push_of),
        "5xx or closed": len(failed),
        "passive answers": len(answers) - len(fallback) - len(failed),
        "missed budget": missed,
        "success without reply": len(fallback) - missed,
        "replies": len(replies),
        "confirmed passive": len(passive),
        "sent via API": sum(api.values()),
        "simulator received": sum(sent.values()),
        "duplicate": sum((sent - api).values())
        + max(0, len(passive) - (len(answers) - len(fallback) - len(failed))),
        "lost": sum((api - sent).values()) + (len(replies) - len(delivered)),
    }


async def run_setup(setup: Setup, args: argparse.Namespace, kindbot_exe: str) -> Result:
    """Start ``setup``'s processes on fresh storage, load them, measure, check."""
    sim = WeChatSimulator()
    sim.add_oa_app(APP_ID, SECRET)
    sim_port = free_port()
    sim_server = await serve_simulator(sim, sim_port)
    url = fresh_postgres(PG_DATABASE) if setup.postgres else None
    redis = fresh_redis(REDIS_DB) if setup.postgres else None
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env, _ = applied_bundle(
                Path(tmp),
                args.entries,
                kindbot_exe,
                database_url=url,
                redis_url=redis,
                api_base=f"http://127.0.0.1:{sim_port}",
            )
            db_url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'data' / 'kindbot.db'}"
            ports = [free_port() for _ in range(setup.servers)]
            log = Path(tmp) / "servers.log"
            for port in ports:
                processes.append(start([kindbot_exe, "serve", "--port", str(port)], env, log))
            if setup.worker:
                processes.append(start([kindbot_exe, "worker"], env, log))
            try:
                for port in ports:
                    await wait_until_up(f"http://127.0.0.1:{port}/healthz")
                return await load(setup, args, processes, ports, db_url, sim)
            except Exception:
                print(log.read_text()[-3000:], file=sys.stderr)
                raise
            finally:
                if args.keep_logs is not None:
                    args.keep_logs.mkdir(parents=True, exist_ok=True)
                    (args.keep_logs / f"{setup.name}.log").write_bytes(log.read_bytes())
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        sim_server.should_exit = True
        if url:
            drop_postgres(PG_DATABASE)


async def load(
    setup: Setup,
    args: argparse.Namespace,
    processes: list[subprocess.Popen[bytes]],
    ports: list[int],
    db_url: str,
    sim: WeChatSimulator,
) -> Result:
    """Warm the servers up, let them settle, then measure the load."""
    tag = "s" + setup.name.replace("-", "").replace("+", "")
    hosts = [f"127.0.0.1:{port}" for port in ports]
    warm = build_requests(hosts[0], PATH, 200, f"warm{tag}")
    await drive(ports, warm, args.concurrency, [b""] * len(warm))  # errors show in the load
    for process in processes:
        await until_idle(process.pid)
    requests = build_requests(hosts[0], PATH, args.messages, tag)
    for user in range(min(USERS, args.messages)):
        sim.user_message(APP_ID, openid(tag, user))  # the sender's window is open
    return await measure(setup, args, processes, ports, requests, db_url, tag, sim)


async def measure(
    setup: Setup,
    args: argparse.Namespace,
    processes: list[subprocess.Popen[bytes]],
    ports: list[int],
    requests: list[bytes],
    db_url: str,
    tag: str,
    sim: WeChatSimulator,
) -> Result:
    shared_pg = processes_named("postgres")
    redis_pids = processes_named("redis-server") if setup.postgres else []
    watch = PostgresWatch(PG_DATABASE) if setup.postgres else None
    conn = (
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{PG_DATABASE}")
        if (watch)
        else None
    )
    stop = asyncio.Event()
    sampler = (
        asyncio.get_running_loop().create_task(watch.run(conn, args.sample_ms / 1000, stop))
        if watch and conn
        else None
    )
    await asyncio.sleep(0.2)  # the sampler has seen every backend once
    before_kindbot = sum(cpu_seconds(p.pid) for p in processes)
    before_shared = {pid: own_cpu(pid) or 0.0 for pid in shared_pg + redis_pids}
    before_backends = watch.backend_cpu if watch else 0.0
    answers = [b""] * len(requests)
    started = time.perf_counter()
    latencies, _ = await drive(ports, requests, args.concurrency, answers)
    elapsed = time.perf_counter() - started
    after_kindbot = sum(cpu_seconds(p.pid) for p in processes)
    stop.set()
    if sampler is not None:
        await sampler
    if conn is not None:
        await conn.close()
    cpu = {"kindbot": after_kindbot - before_kindbot}
    if watch is not None:
        backends = set(watch.backends)
        cpu["pg backends"] = watch.backend_cpu - before_backends
        cpu["pg shared"] = sum(
            (own_cpu(pid) or before_shared[pid]) - before_shared[pid]
            for pid in shared_pg
            if pid not in backends
        )
        cpu["redis"] = sum(
            (own_cpu(pid) or before_shared[pid]) - before_shared[pid] for pid in redis_pids
        )
    await settled(db_url, tag)
    checks = await check(db_url, tag, answers, sim)
    return Result(setup, len(requests), elapsed, latencies, cpu, watch, checks)


async def run_all(args: argparse.Namespace) -> list[Result]:
    kindbot_exe = str(Path(sys.executable).parent / "kindbot")
    results = []
    for name in args.setups:
        results.append(await run_setup(SETUPS[name], args, kindbot_exe))
        for line in results[-1].lines():
            print(line, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--sample-ms", type=float, default=50.0)
    parser.add_argument(
        "--keep-logs",
        type=Path,
        default=None,
        metavar="DIR",
        help="copy each setup's server and worker log (stderr) to DIR/SETUP.log",
    )
    parser.add_argument(
        "--setups", nargs="+", choices=tuple(SETUPS), default=list(SETUPS), metavar="SETUP"
    )
    args = parser.parse_args()
    print(
        f"{args.messages} distinct text pushes at concurrency {args.concurrency},"
        f" {args.entries} entries, default answer model; CPU in ms per message"
    )
    results = {r.setup.name: r for r in asyncio.run(run_all(args))}
    for over, under, what in (
        ("pg-1", "sqlite-1", "PostgreSQL (pg-1) / SQLite (sqlite-1)"),
        ("pg-2+1", "pg-1", "2 servers + worker (pg-2+1) / 1 server (pg-1)"),
    ):
        if over in results and under in results:
            a, b = results[over], results[under]
            print(
                f"{what} CPU per message: total {a.cpu_per_message / b.cpu_per_message:.2f},"
                f" kindbot + own backends {a.own_cpu_per_message / b.own_cpu_per_message:.2f}"
            )


if __name__ == "__main__":
    main()
