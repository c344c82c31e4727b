"""Business events import and the metrics document on SQLite (issue 16 targets: 1,000,000
events imported in < 60 s; ``metrics`` for 100,000 contacts and 1,000,000 events in < 1 s).

Builds a fresh SQLite data dir with the demo shop, writes a JSON Lines file of
``--events`` events of ``--contacts`` contacts on the ``hook`` channel spread
over ``--days`` days before 2027-01-11 (orders 30 %, refunds 3 %, sign-ups 5 %,
the rest a custom ``visit`` type; writing the file is not measured), then
imports it through the CLI's path (``ops.events.import_event_file``: every row
validated and applied in chunks inside one transaction — what ``kindbot events
import`` runs, without the interpreter's start-up), imports it
again (every event a duplicate), and times ``ops.metrics.tenant_metrics`` (what
``kindbot metrics`` and the API run) for the last four weeks, ``--runs`` times.

    .venv/bin/python bench/events_metrics.py --contacts 100000 --events 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

from kindbot.analytics.periods import Period
from kindbot.bootstrap import open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.ops.events import import_event_file
from kindbot.ops.metrics import tenant_metrics
from kindbot.settings import Settings

END = datetime(2027, 1, 11, tzinfo=UTC)


def write_events(path: Path, contacts: int, events: int, days: int, seed: int) -> None:
    """A JSON Lines file of ``events`` plausible events (not measured)."""
    rng = random.Random(seed)
    span = days * 86400
    with path.open("w", encoding="utf-8") as out:
        for i in range(events):
            at = END - timedelta(seconds=rng.randrange(span))
            roll = rng.random()
            event: dict[str, object] = {
                "event_id": f"e{i}",
                "occurred_at": at.isoformat(),
                "channel": "hook",
                "external_id": f"user-{rng.randrange(contacts)}",
            }
            if roll < 0.30:
                event |= {"type": "order", "amount": f"{rng.randrange(100, 50000) / 100:.2f}",
                          "order_id": f"o{i}"}  # fmt: skip
            elif roll < 0.33:
                event |= {"type": "refund", "amount": "9.90", "order_id": f"o{i - 1}"}
            elif roll < 0.38:
                event |= {"type": "signup"}
            else:
                event |= {"type": "visit", "properties": {"page": "/tea"}}
            out.write(json.dumps(event) + "\n")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        settings = Settings(
            data_dir=data_dir,
            database_url=None,
            redis_url=None,
            secret_key=None,
            sentence_encoder="off",
        )
        file = Path(tmp) / "events.jsonl"
        write_events(file, args.contacts, args.events, args.days, args.seed)
        print(f"{args.events:,} events of {args.contacts:,} contacts over {args.days} days; "
              f"file {file.stat().st_size / 1e6:.1f} MB")  # fmt: skip
        async with open_container(settings, auto_migrate=True) as c:
            bundle = resources.files("kindbot.demo").joinpath("bundle.yaml")
            with resources.as_file(bundle) as path:
                await apply_bundle(c.store, c.box, path, c.clock.now())
            async with c.store.transaction(readonly=True) as tx:
                tenant = await tx.tenants.get_by_slug("teashop")
            assert tenant is not None

            for label in ("import", "re-import (all duplicates)"):
                started = time.perf_counter()
                outcome = await import_event_file(c.store, tenant, file, c.clock.now())
                took = time.perf_counter() - started
                print(f"{label}: {took:.1f} s for {args.events:,} rows: "
                      f"{outcome.accepted:,} accepted, {outcome.duplicates:,} duplicates, "
                      f"{args.events / took:,.0f} events/s")  # fmt: skip

            period = Period(date(2026, 12, 14), date(2027, 1, 11))
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                document = await tenant_metrics(c.store, tenant, period)
                timings.append(time.perf_counter() - started)
            print(f"metrics {period.start}..{period.end}: min {min(timings):.3f} s, "
                  f"median {statistics.median(timings):.3f} s over {args.runs} runs")  # fmt: skip
            summary = {k: document[k] for k in ("users", "orders", "revenue", "value_per_user")}
            print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=84)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=16)
    asyncio.run(main(parser.parse_args()))
