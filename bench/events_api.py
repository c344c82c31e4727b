"""Business events over the REST API (issue 16 target: ≥ 5,000 events/s in batches).

Starts one real server (``kindbot serve``, uvicorn, one process, SQLite in a
fresh data dir with the demo shop; rate limits off so the limiter does not
cap the figure) on 127.0.0.1 and posts ``--events`` events in batches of
``--batch`` (≤ 1,000, the API's limit) from ``--concurrency`` connections,
each event a new contact's order or visit on the ``hook`` channel. Prints
events/s over the whole run and the p50/p99 of one batch's request time.

    .venv/bin/python bench/events_api.py --events 200000 --batch 1000 --concurrency 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wechat_oa_throughput import free_port, wait_until_up

EVENTS = "/api/v1/tenants/teashop/events"
BUNDLE = Path(__file__).resolve().parents[1] / "src" / "kindbot" / "demo" / "bundle.yaml"
KINDBOT = str(Path(sys.executable).with_name("kindbot"))


def batches(total: int, size: int, contacts: int, seed: int) -> list[dict[str, object]]:
    """The request bodies (not measured): ``total`` events in bodies of ``size``."""
    rng = random.Random(seed)
    bodies = []
    for start in range(0, total, size):
        events = []
        for i in range(start, min(start + size, total)):
            day = 1 + rng.randrange(28)
            event: dict[str, object] = {
                "event_id": f"api-{i}",
                "occurred_at": f"2026-11-{day:02d}T{rng.randrange(24):02d}:30:00+08:00",
                "channel": "hook",
                "external_id": f"user-{rng.randrange(contacts)}",
            }
            if rng.random() < 0.4:
                event |= {"type": "order", "amount": f"{rng.randrange(100, 50000) / 100:.2f}"}
            else:
                event |= {"type": "visit", "properties": {"page": f"/tea/{i % 50}"}}
            events.append(event)
        bodies.append({"events": events})
    return bodies


async def post_all(
    port: int, token: str, bodies: list[dict[str, object]], concurrency: int
) -> list[float]:
    """Post every body, ``concurrency`` at a time; each request's seconds."""
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    took: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    "/api/v1/tenants/teashop/events", json=body, headers=headers
                )
                took.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return took


def setup(data: Path) -> dict[str, str]:
    """A data dir with the demo shop applied and approved; the server's environment."""
    env = {
        **os.environ,
        "KINDBOT_DATA_DIR": str(data),
        "KINDBOT_RATE_LIMITS": "off",
        "KINDBOT_SENTENCE_ENCODER": "off",
    }
    env.pop("KINDBOT_DATABASE_URL", None)
    env.pop("KINDBOT_REDIS_URL", None)
    for command in (["apply", str(BUNDLE)], ["tenant", "approve", "teashop", "--reason", "bench"]):
        subprocess.run([KINDBOT, *command], env=env, check=True, capture_output=True)
    return env


async def measure(port: int, data: Path, args: argparse.Namespace) -> tuple[float, list[float]]:
    """Wait for the server, then post every batch; elapsed seconds and each batch's."""
    bodies = batches(args.events, args.batch, args.contacts, args.seed)
    await wait_until_up(f"http://127.0.0.1:{port}/healthz")
    token = (data / "admin-token").read_text().strip()
    started = time.perf_counter()
    took = await post_all(port, token, bodies, args.concurrency)
    return time.perf_counter() - started, took


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = setup(data)
        port = free_port()
        command = [KINDBOT, "serve", "--port", str(port)]
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            elapsed, took = asyncio.run(measure(port, data, args))
        finally:
            server.terminate()
            server.wait(timeout=30)
        if args.keep:
            shutil.copytree(data, args.keep)
    ordered = sorted(took)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{args.events:,} events in {len(took)} batches of {args.batch} from "
        f"{args.concurrency} connections: {elapsed:.1f} s, {args.events / elapsed:,.0f} events/s; "
        f"batch p50 {statistics.median(took) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="copy the data dir here")
    main(parser.parse_args())
