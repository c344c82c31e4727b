"""How long one guard decision takes: the pure rules, and a whole proactive send on SQLite.

* **rules** — :func:`kindbot.guard.rules.decide_outbound` on in-memory facts
  (a reply inside the window, and a proactive send with consent), timed one
  call at a time;
* **send** — :meth:`ProactiveSender.send` on the real container with SQLite:
  read the contact, consent and counters, decide, reserve the counters, write
  message, outbox row and audit entry in one transaction (each send to a
  different contact, so every one is allowed; keep it under the demo
  tenant's daily quota of 250 recipients).

    .venv/bin/python bench/guard_decide.py --decisions 20000 --sends 200
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from kindbot.bootstrap import open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.tenants import approve_tenant
from kindbot.campaigns.proactive import ProactiveRequest
from kindbot.core.events import (
    InboundEvent,
    InboundKind,
    OutboundAction,
    OutboundReply,
    ReplyOrigin,
    SendKind,
)
from kindbot.core.records.tenancy import TenantStatus
from kindbot.core.windows import WECHAT_WINDOW
from kindbot.guard.facts import OutboundFacts, ProactiveFacts, WindowFacts
from kindbot.guard.rules import decide_outbound
from kindbot.settings import Settings

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class FixedClock:
    """NOW, advancing 20 ms per reading (under the channel rate limit, same day)."""

    def __init__(self) -> None:
        self.current = NOW

    def now(self) -> datetime:
        self.current += timedelta(milliseconds=20)
        return self.current


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"p50 {p50 * 1e6:.1f} µs, p99 {p99 * 1e6:.1f} µs"


def time_rules(count: int) -> None:
    window = WindowFacts(WECHAT_WINDOW, NOW - timedelta(minutes=5), False, 1)
    reply = OutboundAction(
        "t", "c", "wechat_oa", "u", "v", SendKind.REPLY, OutboundReply("您好", ReplyOrigin.SYSTEM)
    )
    proactive = OutboundAction(
        "t",
        "c",
        "wechat_oa",
        "u",
        "v",
        SendKind.PROACTIVE,
        OutboundReply("上新", ReplyOrigin.SYSTEM),
    )
    base = OutboundFacts(TenantStatus.ACTIVE, False, 2, True, window=window)
    with_consent = OutboundFacts(
        TenantStatus.ACTIVE,
        False,
        2,
        True,
        window=window,
        proactive=ProactiveFacts("news", "上新时通知我"),
    )
    for label, action, facts in (
        ("reply", reply, base),
        ("proactive", proactive, with_consent),
    ):
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            decide_outbound(action, facts, NOW)
            samples.append(time.perf_counter() - started)
        print(f"rules, {label:9}: {percentiles(samples)} over {count} decisions")


async def time_sends(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=None, redis_url=None, secret_key=None)
        clock = FixedClock()
        async with open_container(settings, clock=clock, auto_migrate=True) as c:
            bundle = resources.files("kindbot.demo").joinpath("bundle.yaml")
            with resources.as_file(bundle) as path:
                report = await apply_bundle(c.store, c.box, path, clock.now())
            await approve_tenant(
                c.store, report.tenant_slug, reason="b", actor="b", now=clock.now()
            )
            requests = []
            for i in range(count):
                event = InboundEvent(
                    channel_public_id="teashop.web",
                    sender=f"v{i}",
                    kind=InboundKind.TEXT,
                    text="你好",
                    idempotency_key=f"bench-{i}",
                    received_at=clock.now(),
                )
                await c.pipeline.feed(event, sync_grace=None)
                async with c.store.transaction() as tx:
                    channel = await tx.channels.get_by_public_id("teashop.web")
                    assert channel is not None
                    contact = await tx.contacts.find(channel.id, f"v{i}")
                    assert contact is not None
                    await tx.consents.grant(
                        tenant_id=contact.tenant_id,
                        contact_id=contact.id,
                        channel_id=channel.id,
                        topic="news",
                        source="bench",
                        wording="上新时通知我",
                        now=clock.now(),
                    )
                requests.append(ProactiveRequest(contact.tenant_id, contact.id, "news", "新茶上市"))
            samples = []
            allowed = 0
            for request in requests:
                started = time.perf_counter()
                outcome = await c.proactive.send(request)
                samples.append(time.perf_counter() - started)
                allowed += outcome.verdict.allowed
            ordered = sorted(samples)
            print(
                f"proactive send on SQLite: p50 {statistics.median(ordered) * 1000:.2f} ms, "
                f"p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:.2f} ms "
                f"over {count} sends ({allowed} allowed)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--sends", type=int, default=200)
    args = parser.parse_args()
    time_rules(args.decisions)
    asyncio.run(time_sends(args.sends))
