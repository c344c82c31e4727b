"""Bulk planning over many contacts on SQLite (issue 4 target: 100,000 contacts in < 5 s).

Builds a fresh SQLite database with the demo tenant and ``--contacts``
contacts on its OA channel (rows written directly with SQLAlchemy Core — the
set-up is not what is measured), all tagged ``vip``; a share have written
recently, a share opted in to the topic, some unfollowed, and the counters
show some contacts already reached today's or this month's cap. Then times
``Planner.plan`` (the real container: one read transaction, bulk counter
reads, the guard's rules) and, separately, the pure decision step, and
prints the plan.

    .venv/bin/python bench/guard_plan.py --contacts 100000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import insert

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.tenants import approve_tenant
from kindbot.campaigns.planner import Audience
from kindbot.guard.counting import proactive_keys
from kindbot.guard.planning import PlannedSend, plan
from kindbot.pipeline.admit.admission import tenant_policy_of
from kindbot.settings import Settings
from kindbot.storage.schema import (
    consents,
    contact_tags,
    contacts,
    conversations,
    guard_counters,
)

TOPIC = "new-tea"
TEXT = "明前龙井上市，老客户九折。"
CHUNK = 5_000


async def populate(c: Container, count: int, seed: int) -> None:
    """Write ``count`` contacts of the demo tenant with varied facts, in bulk."""
    rng = random.Random(seed)
    now = c.clock.now()
    async with c.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        channels = await tx.channels.list_for_tenant(tenant.id)
    channel = next(ch for ch in channels if ch.local_id == "web")
    policy = tenant_policy_of(tenant)
    rows: dict[str, list[dict[str, object]]] = {
        "contacts": [],
        "tags": [],
        "consents": [],
        "conversations": [],
        "counters": [],
    }
    for i in range(count):
        contact_id = uuid.uuid4().hex
        rows["contacts"].append(
            {
                "id": contact_id,
                "tenant_id": tenant.id,
                "channel_id": channel.id,
                "external_id": f"visitor-{i}",
                "display_name": None,
                "is_test": False,
                "created_at": now,
                "followed": rng.random() > 0.05,
            }
        )
        rows["tags"].append({"tenant_id": tenant.id, "contact_id": contact_id, "tag": "vip"})
        if rng.random() < 0.45:
            rows["consents"].append(
                {
                    "id": uuid.uuid4().hex,
                    "tenant_id": tenant.id,
                    "contact_id": contact_id,
                    "channel_id": channel.id,
                    "topic": TOPIC,
                    "status": "active",
                    "source": "bench",
                    "wording": "上新时通知我",
                    "granted_at": now,
                    "withdrawn_at": None,
                }
            )
        if rng.random() < 0.6:
            conversation_id = uuid.uuid4().hex
            wrote = now - timedelta(hours=rng.uniform(0, 72))
            rows["conversations"].append(
                {
                    "id": conversation_id,
                    "tenant_id": tenant.id,
                    "channel_id": channel.id,
                    "contact_id": contact_id,
                    "state": "bot",
                    "open_slot": "open",
                    "created_at": wrote,
                    "last_inbound_at": wrote,
                }
            )
        keys = proactive_keys(
            tenant_id=tenant.id,
            contact_id=contact_id,
            channel_id=channel.id,
            timezone=policy.timezone,
            now=now,
        )
        draw = rng.random()
        if draw < 0.1:
            rows["counters"].append(
                {"key": keys.contact_day, "count": 1, "expires_at": now + timedelta(days=2)}
            )
        elif draw < 0.2:
            rows["counters"].append(
                {"key": keys.contact_month, "count": 4, "expires_at": now + timedelta(days=32)}
            )
    tables = {
        "contacts": contacts,
        "tags": contact_tags,
        "consents": consents,
        "conversations": conversations,
        "counters": guard_counters,
    }
    async with c.store.engine.begin() as conn:
        for name, table in tables.items():
            batch = rows[name]
            for start in range(0, len(batch), CHUNK):
                await conn.execute(insert(table), batch[start : start + CHUNK])


class FixedClock:
    """2026-11-25 10:00 UTC (18:00 in the tenant's Asia/Shanghai): outside quiet hours."""

    def now(self) -> datetime:
        return datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


async def main(count: int, runs: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=None, redis_url=None, secret_key=None)
        async with open_container(settings, clock=FixedClock(), auto_migrate=True) as c:
            bundle = resources.files("kindbot.demo").joinpath("bundle.yaml")
            with resources.as_file(bundle) as path:
                report = await apply_bundle(c.store, c.box, path, c.clock.now())
            await approve_tenant(
                c.store, report.tenant_slug, reason="bench", actor="bench", now=c.clock.now()
            )
            started = time.perf_counter()
            await populate(c, count, seed)
            print(f"populated {count} contacts in {time.perf_counter() - started:.1f} s")
            totals, pure = [], []
            planned = None
            for _ in range(runs):
                started = time.perf_counter()
                planned = await c.planner.plan(
                    "teashop", Audience(tag="vip"), topic=TOPIC, text=TEXT
                )
                totals.append(time.perf_counter() - started)
                send = PlannedSend(
                    tenant_id=planned.tenant.id,
                    tenant_status=planned.tenant.status,
                    policy=tenant_policy_of(planned.tenant),
                    topic=TOPIC,
                    text=TEXT,
                    prefer_chinese=True,
                )
                started = time.perf_counter()
                plan(send, planned.recipients, c.clock.now())
                pure.append(time.perf_counter() - started)
            assert planned is not None
            result = planned.plan
            print(
                f"plan of {result.total} contacts: median {statistics.median(totals):.2f} s "
                f"(min {min(totals):.2f}, max {max(totals):.2f}) over {runs} runs; "
                f"decisions alone {statistics.median(pure) * 1000:.0f} ms"
            )
            print(f"  {result.allowed} allowed, {result.deferred} deferred, {result.denied} denied")
            for line in result.lines:
                print(f"  {line.decision.value:6} {line.rule:14} {line.count:7}  {line.reason_en}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.contacts, args.runs, args.seed))
