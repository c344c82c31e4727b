"""Customers' messages are screened: findings are audited (no text), the message is answered."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.core.events import InboundEvent, InboundKind

WEB = "teashop.web"


async def feed(container: Container, clock: FakeClock, text: str, key: str) -> None:
    event = InboundEvent(
        channel_public_id=WEB,
        sender="v1",
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=key,
        received_at=clock.now(),
    )
    result = await container.pipeline.feed(event, sync_grace=timedelta(seconds=30))
    assert result.replies, "a flagged customer message is still answered"


async def flags(container: Container) -> list[tuple[str, str]]:
    """The inbound-content findings in the audit log (read as a reader does: sealed first)."""
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        entries = await tx.audit.entries(tenant.id, 0, 10_000)
    return [(e.rule, e.detail) for e in entries if e.kind == "inbound_content"]


async def test_an_insult_is_flagged_without_its_words(
    container: Container, clock: FakeClock
) -> None:
    await feed(container, clock, "运费怎么算", "k1")
    assert await flags(container) == []

    await feed(container, clock, "你们客服都是傻逼吗", "k2")

    found = await flags(container)
    assert len(found) == 1
    rule, detail = found[0]
    assert rule == "content"
    reason = json.loads(detail)["reason_en"]
    assert "abuse" in reason
    assert "傻逼" not in detail
