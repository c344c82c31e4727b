"""A tenant's handler module answers through the pipeline and the guard; a bug gets the fallback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.bundles.apply import prepare_bundle
from kindbot.core.errors import InputFileError
from kindbot.core.events import InboundEvent, InboundKind
from kindbot.dialogue.responder import UNSURE_EN


async def ask(container: Container, clock: FakeClock, text: str, key: str) -> list[str]:
    event = InboundEvent(
        channel_public_id="teashop.web",
        sender="v1",
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=key,
        received_at=clock.now(),
    )
    result = await container.pipeline.feed(event, sync_grace=timedelta(seconds=30))
    return [reply.text for reply in result.replies]


async def test_handlers_answer_first_and_a_failure_is_never_silence(
    container: Container, clock: FakeClock
) -> None:
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        await tx.tenants.set_handlers(tenant.id, ["tests.support.shop_handlers"])

    price = await ask(container, clock, "礼盒的价格多少", "k1")
    assert price[0].startswith("价格请以商品页为准")
    order = await ask(container, clock, "订单 778899", "k2")
    assert order == ["订单 778899 已收到。", "发货后会通知您。"]
    broken = await ask(container, clock, "boom", "k3")
    assert broken == [UNSURE_EN]
    knowledge = await ask(container, clock, "运费怎么算", "k4")
    assert "99 元包邮" in knowledge[0]


def test_a_bundle_naming_a_missing_module_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "shop.yaml"
    bundle.write_text(
        "tenant: {slug: shop, name: Shop, industry: retail}\n"
        "handlers: [tests.support.shop_handlers, no_such_module_here]\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as caught:
        prepare_bundle(bundle)
    assert "handlers[1]" in str(caught.value)
    assert "no_such_module_here" in str(caught.value)
