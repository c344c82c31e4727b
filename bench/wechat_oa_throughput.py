"""Throughput and latency of the Official Account callback, against the floor.

Starts two real servers (uvicorn, one process each, on 127.0.0.1):

* **kindbot** — the full pipeline on SQLite: signature + decryption, nonce
  check, dedupe, persist, guard, a knowledge-base answer from ``--entries``
  FAQ entries, audit, outbox, encrypted passive reply;
* **floor** — a minimal handler that only verifies, decrypts, parses and
  encrypts a fixed reply (what any Python WeChat bot pays at least).

Then drives ``--messages`` distinct encrypted text pushes into each at
``--concurrency`` and prints msg/s and p50/p99 latency side by side.

    .venv/bin/python bench/wechat_oa_throughput.py --messages 3000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from kindbot.testing.wechat_callbacks import WeChatServerClient

APP_ID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "benchtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
GH = "gh_0123456789ab"
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_bundle(directory: Path, entries: int) -> Path:
    rows = ["id,question,answer,similar"]
    topics = ["运费", "退货", "发票", "会员", "发货", "茶叶", "礼盒", "批发", "支付", "地址"]
    for i in range(entries):
        topic = topics[i % len(topics)]
        rows.append(
            f"e{i},{topic}问题{i}怎么办,这是第{i}条关于{topic}的答案,{topic}{i}相关|问{topic}{i}"
        )
    (directory / "faq.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    bundle = directory / "bundle.yaml"
    bundle.write_text(
        "tenant: {slug: bench, name: Bench, industry: retail}\n"
        "channels:\n"
        f"  - {{id: oa, type: wechat_oa, app_id: {APP_ID}, app_secret: {SECRET}, token: {TOKEN},"
        f" encoding_aes_key: {AES_KEY}, mode: safe, api_base: 'http://127.0.0.1:9'}}\n"
        "knowledge: [{file: faq.csv}]\n",
        encoding="utf-8",
    )
    return bundle


async def wait_until_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


async def drive(base: str, path: str, messages: int, concurrency: int, tag: str) -> list[float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as http:
        wechat = WeChatServerClient(
            http, path, token=TOKEN, app_id=APP_ID, gh_id=GH, mode="safe", encoding_aes_key=AES_KEY
        )
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(messages):
            queue.put_nowait(i)
        latencies: list[float] = []

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                now = int(time.time())
                xml = wechat.text_xml(
                    f"{tag}-user-{i % 500}", f"运费问题{i % 997}怎么办", f"{tag}{i}", now
                )
                started = time.perf_counter()
                reply = await wechat.push(xml, now, nonce=f"{tag}{i}")
                latencies.append(time.perf_counter() - started)
                if reply.status != 200:
                    raise RuntimeError(f"push {i} answered {reply.status}: {reply.body[:200]!r}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies


def report(name: str, latencies: list[float], elapsed: float) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    p50 = statistics.median(ordered)
    return (
        f"{name:<8} {len(latencies) / elapsed:8.0f} msg/s   p50 {p50 * 1000:6.1f} ms"
        f"   p99 {p99 * 1000:6.1f} ms   ({len(latencies)} messages in {elapsed:.1f} s)"
    )


async def measure(
    base: str, path: str, args: argparse.Namespace, tag: str
) -> tuple[list[float], float]:
    await drive(base, path, min(200, args.messages), args.concurrency, f"warm{tag}")
    started = time.perf_counter()
    latencies = await drive(base, path, args.messages, args.concurrency, tag)
    return latencies, time.perf_counter() - started


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def run_both(
    args: argparse.Namespace, full_port: int, floor_port: int
) -> tuple[tuple[list[float], float], tuple[list[float], float]]:
    """Wait for both servers, then measure the floor and kindbot one after the other."""
    await wait_until_up(f"http://127.0.0.1:{full_port}/healthz")
    await wait_until_up(f"http://127.0.0.1:{floor_port}/")
    floor = await measure(f"http://127.0.0.1:{floor_port}", "/callback", args, "f")
    full = await measure(f"http://127.0.0.1:{full_port}", "/channels/bench.oa/callback", args, "k")
    return floor, full


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()
    kindbot_exe = str(Path(sys.executable).parent / "kindbot")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = {**os.environ, "KINDBOT_DATA_DIR": str(data / "data")}
        env.pop("KINDBOT_DATABASE_URL", None)
        bundle = write_bundle(data, args.entries)
        subprocess.run(
            [kindbot_exe, "apply", str(bundle)], env=env, check=True, capture_output=True
        )
        subprocess.run(  # a new tenant is pending (test contacts only) until approved
            [kindbot_exe, "tenant", "approve", "bench", "--reason", "benchmark"],
            env=env,
            check=True,
            capture_output=True,
        )
        full_port, floor_port = free_port(), free_port()
        floor_cmd = [sys.executable, str(HERE / "wechat_floor.py"), str(floor_port)]
        servers = [
            start([kindbot_exe, "serve", "--port", str(full_port)], env),
            start([*floor_cmd, TOKEN, AES_KEY, APP_ID], env),
        ]
        try:
            floor, full = asyncio.run(run_both(args, full_port, floor_port))
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    print(f"concurrency {args.concurrency}, {args.entries} entries, SQLite, one process each")
    print(report("floor", *floor))
    print(report("kindbot", *full))
    ratio = (len(full[0]) / full[1]) / (len(floor[0]) / floor[1])
    print(f"kindbot / floor throughput: {ratio:.2f}")


if __name__ == "__main__":
    main()
