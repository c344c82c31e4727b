"""A segment count over 1,000,000 contacts on PostgreSQL (issue 16 target: < 1 s).

Creates a database of its own (``kindbot_bench_segments``; never the tests'
``test`` database), migrates it to head, and bulk-loads one tenant with COPY
(not measured): ``--contacts`` contacts on two channels, about half of them
with inbound messages over the year before ``NOW`` (one conversation each),
about 40 % with business events (orders, some refunds, sign-ups and custom
``visit`` events), one to three of twenty tags on most contacts, and
consents to ``care`` or ``news`` on about a third. Then it times
``tx.segments.count`` — what a preview and ``kindbot segment preview`` run —
for the issue's typical segment (tag + consent topic + orders ≥ 2 + last
inbound within 30 days) and a few others, ``--runs`` times each, printing the
min and median and the member count. The database is dropped at the end
(``--keep`` leaves it for EXPLAIN).

    .venv/bin/python bench/segment_count.py --contacts 1000000 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench_services import POSTGRES_SERVER, drop_postgres, fresh_postgres
from kindbot.analytics.money import DEFAULT_CURRENCY
from kindbot.analytics.periods import tenant_zone
from kindbot.segments.codec import parse_definition
from kindbot.segments.resolve import resolve
from kindbot.storage.engine import create_engine
from kindbot.storage.migrate import upgrade
from kindbot.storage.sql_store import SqlStore

DATABASE = "kindbot_bench_segments"
NOW = datetime(2027, 1, 11, 4, 0, tzinfo=UTC)
TENANT = "t" * 32
CHANNELS = ("c" * 31 + "1", "c" * 31 + "2")
TAGS = [f"tag{i:02d}" for i in range(20)]

SEGMENTS: dict[str, list[object]] = {
    "typical: tag + consent + orders >= 2 + inbound within 30 d": [
        {"tags": {"all": ["tag03"]}},
        {"consent": "care"},
        {"orders": {"min": 2}},
        {"last_inbound": {"within_days": 30}},
    ],
    "orders >= 2 alone": [{"orders": {"min": 2}}],
    "inbound within 30 d alone": [{"last_inbound": {"within_days": 30}}],
    "rfm r 4-5, f 3-5": [{"rfm": {"r": [4, 5], "f": [3, 5]}}],
    "first seen in December (local dates)": [
        {"first_seen": {"from": "2026-12-01", "to": "2027-01-01"}}
    ],
    "no orders, consent news, any of two tags": [
        {"orders": {"max": 0}},
        {"consent": "news"},
        {"tags": {"any": ["tag01", "tag02"]}},
    ],
}


def contact_id(i: int) -> str:
    return f"{i:032x}"


def rows(contacts: int, seed: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (not measured)."""
    rng = random.Random(seed)
    year = 365 * 86400
    out: dict[str, list[tuple[Any, ...]]] = {
        "contacts": [],
        "conversations": [],
        "messages": [],
        "business_events": [],
        "contact_tags": [],
        "consents": [],
    }
    msg = event = 0
    for i in range(contacts):
        cid = contact_id(i)
        channel = CHANNELS[i % 2]
        created = NOW - timedelta(seconds=rng.randrange(year))
        by_event = rng.random() < 0.2
        out["contacts"].append(
            (cid, TENANT, channel, f"ext-{i}", f"客户 {i}", False, created, True, None, None,
             "event" if by_event else "message")
        )  # fmt: skip
        if not by_event and rng.random() < 0.6:
            conv = f"{i:031x}v"
            out["conversations"].append((conv, TENANT, channel, cid, "bot", "open", created, None))
            for _ in range(rng.choice((1, 1, 2, 3))):
                msg += 1
                at = NOW - timedelta(seconds=rng.randrange(year))
                out["messages"].append(
                    (f"{msg:032x}", TENANT, channel, conv, cid, "inbound", "text", "hi", at,
                     f"k{msg}", "processed", False)
                )  # fmt: skip
        if rng.random() < 0.4:
            for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
                event += 1
                at = NOW - timedelta(seconds=rng.randrange(year))
                roll = rng.random()
                kind, amount = "visit", None
                if roll < 0.6:
                    kind, amount = "order", rng.randrange(1000, 100000)
                elif roll < 0.65:
                    kind, amount = "refund", 990
                elif roll < 0.75:
                    kind = "signup"
                out["business_events"].append(
                    (TENANT, f"e{event}", kind, at, cid, channel, amount,
                     DEFAULT_CURRENCY if amount is not None else None, f"o{event}", None, at)
                )  # fmt: skip
        if rng.random() < 0.8:
            for tag in rng.sample(TAGS, rng.choice((1, 2, 3))):
                out["contact_tags"].append((TENANT, cid, tag))
        if rng.random() < 0.35:
            topic = "care" if rng.random() < 0.6 else "news"
            withdrawn = rng.random() < 0.1
            out["consents"].append(
                (f"{i:031x}s", TENANT, cid, channel, topic,
                 "withdrawn" if withdrawn else "active", "bench", "ok", created,
                 NOW if withdrawn else None)
            )  # fmt: skip
    return out


COLUMNS = {
    "contacts": ("id", "tenant_id", "channel_id", "external_id", "display_name", "is_test",
                 "created_at", "followed", "follow_changed_at", "opted_out_at", "source"),
    "conversations": ("id", "tenant_id", "channel_id", "contact_id", "state", "open_slot",
                      "created_at", "last_inbound_at"),
    "messages": ("id", "tenant_id", "channel_id", "conversation_id", "contact_id", "direction",
                 "kind", "text", "created_at", "idempotency_key", "status", "generated"),
    "business_events": ("tenant_id", "event_id", "type", "occurred_at", "contact_id",
                        "channel_id", "amount_minor", "currency", "order_id", "properties_json",
                        "received_at"),
    "contact_tags": ("tenant_id", "contact_id", "tag"),
    "consents": ("id", "tenant_id", "contact_id", "channel_id", "topic", "status", "source",
                 "wording", "granted_at", "withdrawn_at"),
}  # fmt: skip


def chunks(items: list[tuple[Any, ...]], size: int = 200_000) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def load(contacts: int, seed: int) -> None:
    conn = await asyncpg.connect(f"postgresql://{POSTGRES_SERVER}/{DATABASE}")
    try:
        await conn.execute(
            "INSERT INTO tenants (id, slug, name, industry, timezone, language, status,"
            " kb_version, created_at, standing, revision) VALUES"
            " ($1, 'bench', 'Bench', 'retail', 'Asia/Shanghai', 'zh', 'active', 0, $2, 'ok', 0)",
            TENANT,
            NOW,
        )
        for n, channel in enumerate(CHANNELS):
            await conn.execute(
                "INSERT INTO channels (id, tenant_id, public_id, local_id, kind, config_sealed,"
                " enabled) VALUES ($1, $2, $3, $4, 'webchat', 'x', true)",
                channel,
                TENANT,
                f"bench.ch{n}",
                f"ch{n}",
            )
        started = time.perf_counter()
        data = rows(contacts, seed)
        print(f"generated rows in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{t} {len(r):,}" for t, r in data.items()))  # fmt: skip
        started = time.perf_counter()
        for table, records in data.items():
            for part in chunks(records):
                await conn.copy_records_to_table(table, records=part, columns=COLUMNS[table])
        await conn.execute("VACUUM ANALYZE")  # what autovacuum does to a loaded table
        print(f"loaded with COPY and vacuumed in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()


async def measure(runs: int) -> None:
    store = SqlStore.for_url(f"postgresql+asyncpg://{POSTGRES_SERVER}/{DATABASE}")
    try:
        for label, conditions in SEGMENTS.items():
            query = resolve(
                parse_definition({"all_of": conditions}),
                tenant_id=TENANT,
                now=NOW,
                zone=tenant_zone("Asia/Shanghai"),
                currency=DEFAULT_CURRENCY,
            )
            times: list[float] = []
            count = 0
            for _ in range(runs + 1):  # the first run warms the cache and is not counted
                started = time.perf_counter()
                async with store.transaction(readonly=True) as tx:
                    count = await tx.segments.count(query)
                times.append(time.perf_counter() - started)
            counted = times[1:]
            print(
                f"{label}: {count:,} members; min {min(counted):.3f} s, "
                f"median {statistics.median(counted):.3f} s over {runs} runs"
            )
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="Leave the database for EXPLAIN.")
    parser.add_argument("--reuse", action="store_true", help="Measure a kept database again.")
    args = parser.parse_args()
    try:
        if not args.reuse:
            url = fresh_postgres(DATABASE)
            engine = create_engine(url)
            await upgrade(engine)
            await engine.dispose()
            await load(args.contacts, args.seed)
        await measure(args.runs)
    finally:
        if not args.keep:
            drop_postgres(DATABASE)


if __name__ == "__main__":
    asyncio.run(main())
