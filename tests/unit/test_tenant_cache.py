"""The per-process tenant cache's bookkeeping: labels, forgetting, bounds (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from kindbot.core.records.flows import FlowDefinitions
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord, TenantStatus
from kindbot.pipeline.tenant_cache import ResolvedChannel, TenantCache

T0 = datetime(2026, 12, 7, tzinfo=UTC)


def resolved(tenant_id: str, channel_id: str) -> ResolvedChannel:
    tenant = TenantRecord(
        tenant_id,
        tenant_id,
        tenant_id,
        "retail",
        "Asia/Shanghai",
        "zh",
        TenantStatus.ACTIVE,
        None,
        T0,
    )
    channel = ChannelRecord(
        channel_id, tenant_id, f"{tenant_id}.{channel_id}", channel_id, "webchat", "x", True
    )
    return ResolvedChannel(channel, tenant, "{}")


def test_an_entry_serves_only_the_revision_it_was_read_at() -> None:
    cache = TenantCache()
    entry = resolved("t1", "c1")
    cache.remember_channel(entry, 3)
    assert cache.channel_by_id("c1", 3) == entry
    assert cache.channel_by_id("c1", 4) is None
    hit = cache.channel_by_public_id("t1.c1")
    assert hit is not None
    assert (hit.value, hit.revision) == (entry, 3)
    cache.remember_channel(entry, None)  # read outside a check: serves no revision
    assert cache.channel_by_id("c1", 3) is None


def test_flow_definitions_are_labelled_like_channels() -> None:
    cache = TenantCache()
    flows = FlowDefinitions("{}", None, T0)
    cache.remember_flows("t1", flows, 2)
    hit = cache.flows("t1", 2)
    assert hit is not None
    assert hit.value == flows
    assert cache.flows("t1", 3) is None
    cache.remember_flows("t2", None, 1)  # a tenant without flows is remembered too
    none = cache.flows("t2", 1)
    assert none is not None
    assert none.value is None


def test_forgetting_a_tenant_drops_its_channels_and_flows_only() -> None:
    cache = TenantCache()
    cache.remember_channel(resolved("t1", "c1"), 1)
    cache.remember_channel(resolved("t1", "c2"), 1)
    cache.remember_channel(resolved("t2", "c3"), 1)
    cache.remember_flows("t1", None, 1)
    cache.forget_tenant("t1")
    assert cache.channel_by_id("c1", 1) is None
    assert cache.channel_by_public_id("t1.c2") is None
    assert cache.flows("t1", 1) is None
    assert cache.channel_by_id("c3", 1) is not None


def test_the_least_recently_used_entry_goes_first_when_full() -> None:
    cache = TenantCache(channels=2, tenants=1)
    cache.remember_channel(resolved("t1", "c1"), 1)
    cache.remember_channel(resolved("t1", "c2"), 1)
    assert cache.channel_by_id("c1", 1) is not None  # c1 used: c2 is now the oldest
    cache.remember_channel(resolved("t1", "c3"), 1)
    assert cache.channel_by_id("c2", 1) is None
    assert cache.channel_by_id("c1", 1) is not None
    cache.remember_flows("t1", None, 1)
    cache.remember_flows("t2", None, 1)
    assert cache.flows("t1", 1) is None
