"""The SQL one Official Account text push costs, counted at the database driver.

Applies the bench bundle (``wechat_oa_throughput.applied_bundle``: a safe-mode
OA channel, ``--entries`` FAQ entries) on SQLite and/or on a PostgreSQL
database of its own, opens the real container in this process and posts
signed, encrypted text pushes to the real ASGI app (``httpx.ASGITransport``):
the whole callback path, the passive reply's hand-over and its confirmation
included. Every statement is recorded where the driver runs it — sqlite3's
trace callback on every SQLite connection (the inline engine's and
aiosqlite's), asyncpg's query logger on every PostgreSQL connection, hooked
on every pool's ``connect`` — so nothing SQLAlchemy does around a statement
(pool pings, resets) is missed.

After a warm-up, each round pushes one message from a new contact, then one
from the same (now known) contact, each a distinct FAQ question answered
from the knowledge base (not a cached search), and counts what
each push ran until the app answered and the database went quiet. Workers are
not started (the outbox worker is not woken by a push answered passively).

    .venv/bin/python bench/message_path.py --backend both --list
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool
from sqlalchemy.util import await_only

from bench_services import drop_postgres, fresh_postgres
from kindbot.bootstrap import open_container
from kindbot.settings import Settings
from kindbot.testing.wechat_callbacks import WeChatServerClient
from kindbot.web.app import build_app
from wechat_oa_throughput import AES_KEY, APP_ID, GH, TOKEN, applied_bundle, faq_question

PATH = "/channels/bench.oa/callback"
PG_DATABASE = "bench_message_path"
QUIET_S = 0.3
"""A push is over when its answer came back and no statement ran for this long."""
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|END)\b", re.IGNORECASE)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
PING = re.compile(r"^\s*(;|SELECT 1)\s*$", re.IGNORECASE)
PREPARE = re.compile(r"^PREPARE ")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement a driver ran, on the connection numbered ``connection``."""

    connection: int
    sql: str


class DriverLog:
    """Every statement the database drivers ran, in order.

    sqlite3 reports every statement to a trace callback. asyncpg's query
    logger sees what runs without a prepared statement (BEGIN, COMMIT,
    ROLLBACK, SQLAlchemy's pool ping ``;``) but not prepared statements'
    executions, which is how SQLAlchemy runs every other statement; so those
    are recorded by wrapping ``asyncpg.prepared_stmt.PreparedStatement``'s
    executing methods, and ``Connection.prepare`` (a round trip of its own when
    SQLAlchemy's per-connection statement cache misses) is recorded as
    ``PREPARE …``. Hooked on every new pool connection of every engine in this
    process: install before the container opens its engines.
    """

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self._numbers = itertools.count(1)
        self._asyncpg: dict[int, int] = {}
        """id() of an asyncpg connection → its number."""
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        event.listen(Pool, "connect", self._on_connect)
        self._undo.append(lambda: event.remove(Pool, "connect", self._on_connect))
        self._wrap_asyncpg()

    def uninstall(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def _recorder(self, number: int) -> Callable[[str], None]:
        def record(sql: str) -> None:
            self.statements.append(Statement(number, sql))

        return record

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        number = next(self._numbers)
        record = self._recorder(number)
        raw = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        if isinstance(raw, sqlite3.Connection):  # the inline engine (pysqlite)
            raw.set_trace_callback(record)
        elif hasattr(raw, "add_query_logger"):  # asyncpg
            self._asyncpg[id(raw)] = number
            raw.add_query_logger(lambda logged: record(logged.query))
        elif hasattr(raw, "set_trace_callback"):  # aiosqlite (migrations, tools, ping)
            await_only(raw.set_trace_callback(record))
        else:
            raise RuntimeError(f"no statement hook for {type(raw).__name__}")

    def _wrap_asyncpg(self) -> None:
        import asyncpg
        from asyncpg.prepared_stmt import PreparedStatement

        log = self

        def on(connection: object, sql: str) -> None:
            log.statements.append(Statement(log._asyncpg.get(id(connection), 0), sql))

        def executing(name: str) -> None:
            original = getattr(PreparedStatement, name)

            async def wrapped(statement: Any, *args: Any, **kwargs: Any) -> Any:
                result = await original(statement, *args, **kwargs)
                on(statement._connection, statement.get_query())
                return result

            setattr(PreparedStatement, name, wrapped)
            self._undo.append(lambda: setattr(PreparedStatement, name, original))

        for name in ("fetch", "fetchrow", "fetchval", "fetchmany", "executemany", "explain"):
            executing(name)
        prepare = asyncpg.Connection.prepare

        async def preparing(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            prepared = await prepare(connection, query, *args, **kwargs)
            on(connection, f"PREPARE {query}")
            return prepared

        asyncpg.Connection.prepare = preparing  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(asyncpg.Connection, "prepare", prepare))


class CursorCount:
    """Cross-check: how many statements SQLAlchemy handed to a cursor
    (``before_cursor_execute``; BEGIN/COMMIT/ROLLBACK go past it)."""

    def __init__(self) -> None:
        self.count = 0

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._seen)

    def uninstall(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._seen)


@dataclass(frozen=True, slots=True)
class Transaction:
    """Statements of one connection from BEGIN to COMMIT/ROLLBACK (``begin`` and
    ``end`` empty: a statement run outside any transaction)."""

    connection: int
    begin: str
    statements: tuple[str, ...]
    end: str

    @property
    def ping(self) -> bool:
        """Only a pool ping (asyncpg's pre-ping is ``BEGIN; ; ROLLBACK;``)."""
        return bool(self.statements) and all(PING.match(s) for s in self.statements)

    @property
    def writes(self) -> bool:
        return "IMMEDIATE" in self.begin.upper() or any(WRITE.match(s) for s in self.statements)


def transactions(statements: list[Statement]) -> list[Transaction]:
    """``statements`` grouped per transaction, in the order the transactions began
    (one still open at the end is listed with an empty ``end``)."""
    started: list[tuple[int, str, list[str]]] = []
    open_on: dict[int, int] = {}
    ends: dict[int, str] = {}
    for statement in statements:
        word = CONTROL.match(statement.sql)
        current = open_on.get(statement.connection)
        if word and word.group(1).upper() == "BEGIN":
            open_on[statement.connection] = len(started)
            started.append((statement.connection, statement.sql.strip(), []))
        elif word and current is not None:
            ends[current] = statement.sql.strip()
            del open_on[statement.connection]
        elif current is not None:
            started[current][2].append(statement.sql.strip())
        else:  # autocommit: a ping, a pragma, or a stray COMMIT/ROLLBACK
            ends[len(started)] = ""
            started.append((statement.connection, "", [statement.sql.strip()]))
    return [
        Transaction(connection, begin, tuple(body), ends.get(index, ""))
        for index, (connection, begin, body) in enumerate(started)
    ]


@dataclass(frozen=True, slots=True)
class PushCost:
    """What one push ran at the driver."""

    contact: str
    """``new`` or ``known``."""
    statements: tuple[Statement, ...]
    passive: bool
    """The callback answered with a passive reply (not ``success``)."""
    cursor_executes: int
    """What SQLAlchemy's ``before_cursor_execute`` saw meanwhile (the cross-check)."""

    def count(self, pattern: re.Pattern[str]) -> int:
        return sum(1 for s in self.statements if pattern.match(s.sql))

    def word(self, word: str) -> int:
        return sum(1 for s in self.statements if s.sql.lstrip().upper().startswith(word))

    @property
    def sql(self) -> int:
        """Statements besides BEGIN/COMMIT/ROLLBACK, pool pings and prepares."""
        return sum(
            1
            for s in self.statements
            if not (CONTROL.match(s.sql) or PING.match(s.sql) or PREPARE.match(s.sql))
        )

    @property
    def groups(self) -> list[Transaction]:
        return transactions(list(self.statements))

    def line(self) -> str:
        groups = [g for g in self.groups if g.begin and not g.ping]
        writes = sum(1 for g in groups if g.writes)
        return (
            f"{self.sql:3d} statements + {self.word('BEGIN')} BEGIN, {self.word('COMMIT')} COMMIT,"
            f" {self.word('ROLLBACK')} ROLLBACK, {self.count(PING)} pings,"
            f" {self.count(PREPARE)} prepares = {len(self.statements)} round trips;"
            f" {len(groups)} transactions besides pings, {writes} writing"
            f" [SQLAlchemy cursor executes: {self.cursor_executes}]"
            + ("" if self.passive else "  (NO passive reply)")
        )


async def quiet(log: DriverLog, at_most: float = 60.0) -> None:
    """Wait until no statement ran for :data:`QUIET_S` (background work is over)."""
    deadline = time.monotonic() + at_most
    seen = -1
    while len(log.statements) != seen and time.monotonic() < deadline:
        seen = len(log.statements)
        await asyncio.sleep(QUIET_S)


async def measure(env: dict[str, str], rounds: int) -> list[PushCost]:
    """Open the container from ``env``, warm it up, then ``rounds`` × (a new
    contact's first push, the same contact's second push)."""
    log = DriverLog()
    log.install()
    cursor = CursorCount()
    cursor.install()
    async with open_container(Settings.from_env(env)) as container:
        await container.warm_up()
        transport = httpx.ASGITransport(app=build_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://kindbot") as http:
            wechat = WeChatServerClient(
                http,
                PATH,
                token=TOKEN,
                app_id=APP_ID,
                gh_id=GH,
                mode="safe",
                encoding_aes_key=AES_KEY,
            )
            serial = itertools.count()

            async def push(user: str) -> bool:
                i = next(serial)
                now = int(time.time())
                xml = wechat.text_xml(user, faq_question(i), f"path{i}", now)
                reply = await wechat.push(xml, now, nonce=f"path{i}")
                if reply.status != 200:
                    raise RuntimeError(f"push answered {reply.status}: {reply.body[:200]!r}")
                return reply.content is not None

            for k in range(3):  # warm-up: first use of every statement and code path
                await push(f"warm-{k}")
                await push(f"warm-{k}")
            await quiet(log)
            costs: list[PushCost] = []
            for k in range(rounds):
                for contact in ("new", "known"):
                    mark, seen = len(log.statements), cursor.count
                    passive = await push(f"round-{k}")
                    await quiet(log)
                    statements = tuple(log.statements[mark:])
                    costs.append(PushCost(contact, statements, passive, cursor.count - seen))
    log.uninstall()
    cursor.uninstall()
    return costs


def listing(cost: PushCost) -> str:
    """Every statement of one push in order, grouped per transaction."""
    lines = []
    for number, group in enumerate(cost.groups, 1):
        kind = (
            "pool ping"
            if group.ping
            else "write"
            if group.writes
            else "read"
            if group.begin
            else "outside a transaction"
        )
        lines.append(f"  [{number}] conn {group.connection}, {kind}: {group.begin or '-'}")
        lines.extend(f"      {sql[:220]}" for sql in group.statements)
        if group.begin:
            lines.append(f"      {group.end or '(still open)'}")
    return "\n".join(lines)


def report(backend: str, costs: list[PushCost], show: bool) -> None:
    print(f"== {backend}")
    for contact in ("new", "known"):
        mine = [c for c in costs if c.contact == contact]
        distinct = sorted({c.line() for c in mine})
        print(f"{contact:>5} contact ({len(mine)} pushes):")
        for text in distinct:
            print(f"        {text}")
        if show:
            print(listing(mine[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="new + known contact pushes")
    parser.add_argument(
        "--list", action="store_true", help="every statement of one push, per transaction"
    )
    args = parser.parse_args()
    kindbot_exe = str(Path(sys.executable).parent / "kindbot")
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            url = fresh_postgres(PG_DATABASE) if backend == "postgres" else None
            try:
                env, _ = applied_bundle(Path(tmp), args.entries, kindbot_exe, database_url=url)
                costs = asyncio.run(measure(env, args.rounds))
            finally:
                if url:
                    drop_postgres(PG_DATABASE)
        report(backend, costs, args.list)


if __name__ == "__main__":
    main()
