"""Several processes on one PostgreSQL and one Redis: two servers and a worker.

Real ``kindbot serve`` processes (``KINDBOT_SERVE_WORKERS=0``) and a ``kindbot
worker`` share a fresh PostgreSQL database and Redis. Followers of an Official
Account each send three different questions at once, spread over both servers
(WeChat retries like WeChat: 5 s apart). Every question is answered exactly
once — passively, or by the worker through the customer-service API — which is
counted outside kindbot; the audit chain verifies; the knowledge base was fitted
once, by ``kindbot apply``, and reused by every process.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.support.databases import REDIS_ENV, fresh_postgres_database, require_env
from tests.support.live import serve_app
from tests.support.processes import KindbotProcess, clean_environment, run_cli
from tests.support.wechat_platform import Customers, platform

from kindbot.storage.engine import create_engine
from kindbot.testing.wechat_callbacks import WeChatServerClient

APP_ID = "wx00000000sca1e001"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "scaletoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
GH = "gh_5ca1e0000001"
TENANT = "scaleshop"
SECRET_KEY = "hBxC0yXlqOAsZ5Q2nPp9pHq2mV1cM2oG9xq5hY0l3Tk="
FAQ = {
    "运费怎么算": "满99元包邮",
    "多久发货": "下单后48小时内发货",
    "可以开发票吗": "可以开具电子发票",
}
USERS = 8
RETRY_AFTER_S = 5.0
ATTEMPTS = 4
SETTLE_S = 60.0


def write_bundle(into: Path, platform_url: str) -> Path:
    rows = "".join(f"{question},{answer}\n" for question, answer in FAQ.items())
    (into / "faq.csv").write_text(f"question,answer\n{rows}", encoding="utf-8")
    bundle = into / "bundle.yaml"
    bundle.write_text(
        f"tenant: {{slug: {TENANT}, name: Scale Shop, industry: retail}}\n"
        "channels:\n"
        f"  - {{id: oa, type: wechat_oa, app_id: {APP_ID}, app_secret: {SECRET},"
        f" token: {TOKEN}, encoding_aes_key: {AES_KEY}, mode: safe, api_base: '{platform_url}'}}\n"
        "knowledge: [{file: faq.csv}]\n",
        encoding="utf-8",
    )
    return bundle


async def ask(
    http: httpx.AsyncClient,
    server: KindbotProcess,
    got: Counter[tuple[str, str]],
    user: str,
    n: int,
    question: str,
) -> None:
    """One follower's question through ``server``; a passive answer is counted in ``got``."""
    wechat = WeChatServerClient(
        http,
        f"{server.base}/channels/{TENANT}.oa/callback",
        token=TOKEN,
        app_id=APP_ID,
        gh_id=GH,
        mode="safe",
        encoding_aes_key=AES_KEY,
        timeout=RETRY_AFTER_S,
        attempts=ATTEMPTS,
        retry_failures=True,
    )
    now = int(time.time())
    reply = await wechat.push(wechat.text_xml(user, question, f"9{n:06d}", now), now)
    if reply.content is not None:
        got[(user, answer_of(reply.content))] += 1


def answer_of(text: str) -> str:
    """The FAQ answer a reply carries (the bot's disclosure follows on the next line)."""
    return text.split("\n", 1)[0]


async def count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


def answers(customers: Customers) -> Counter[tuple[str, str]]:
    """The customer-service API's messages per (user, FAQ answer)."""
    counted: Counter[tuple[str, str]] = Counter()
    for (user, sent), n in customers.texts.items():
        counted[(user, answer_of(sent))] += n
    return counted


@pytest.fixture
async def database() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


async def test_two_servers_and_a_worker_answer_every_question_exactly_once(
    database: str, tmp_path: Path
) -> None:
    customers = Customers()
    passive: Counter[tuple[str, str]] = Counter()
    env = clean_environment(
        KINDBOT_DATA_DIR=str(tmp_path / "data"),
        KINDBOT_DATABASE_URL=database,
        KINDBOT_REDIS_URL=require_env(REDIS_ENV),
        KINDBOT_SECRET_KEY=SECRET_KEY,
        KINDBOT_ADMIN_TOKEN="scale-admin-token-0123456789",
        KINDBOT_ALLOW_PRIVATE_ENDPOINTS="1",
        KINDBOT_SERVE_WORKERS="0",
        KINDBOT_RATE_LIMITS="off",
    )
    async with serve_app(platform(customers)) as platform_url:
        run_cli(env, "migrate")
        run_cli(env, "apply", write_bundle(tmp_path, platform_url))
        run_cli(env, "tenant", "approve", TENANT, "--reason", "scale-out test")
        servers = [KindbotProcess.server(env, tmp_path, f"serve-{i}") for i in (1, 2)]
        worker = KindbotProcess(["worker"], env, tmp_path / "worker.log", None)
        processes = [*servers, worker]
        try:
            await asyncio.gather(*(process.start() for process in processes))
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
            async with httpx.AsyncClient(limits=limits) as http:
                asks = [
                    ask(http, servers[(u + k) % 2], passive, f"o-scale-{u:02d}", u * 10 + k, q)
                    for u in range(USERS)
                    for k, q in enumerate(FAQ)
                ]
                await asyncio.gather(*asks)
            expected = {(f"o-scale-{u:02d}", a) for u in range(USERS) for a in FAQ.values()}
            deadline = time.monotonic() + SETTLE_S
            while time.monotonic() < deadline:
                received = passive + answers(customers)
                if set(received) >= expected:
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.0)  # a late duplicate would arrive now
            received = passive + answers(customers)
            logs = "\n".join(process.log() for process in processes)
            assert set(received) == expected, f"missing {expected - set(received)}\n{logs}"
            assert all(n == 1 for n in received.values()), f"twice: {received}\n{logs}"
            fits = await count(database, "SELECT count(*) FROM kb_models WHERE payload IS NULL")
            assert fits == 0, "every process found the model fitted by apply"
        finally:
            for process in processes:
                process.stop()
    verified = run_cli(env, "audit", "verify", "--tenant", TENANT)
    assert f"{TENANT}: ok" in verified, verified
