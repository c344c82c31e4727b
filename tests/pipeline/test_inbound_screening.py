"""Customers' messages are screened: findings are audited (no text), the message is answered."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.core.events import InboundEvent, InboundKind
from kindbot.storage.schema import audit_entries

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
    async with container.store.engine.connect() as conn:
        query = select(audit_entries.c.rule, audit_entries.c.detail).where(
            audit_entries.c.kind == "inbound_content"
        )
        return [(row.rule, row.detail) for row in await conn.execute(query)]


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
