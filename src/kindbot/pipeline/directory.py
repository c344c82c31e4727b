"""Finding a channel and opening its sealed configuration."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from kindbot.core.errors import NotFoundError
from kindbot.core.ports.seams import Store
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord
from kindbot.storage.sealing import SecretBox


@dataclass(frozen=True, slots=True)
class ResolvedChannel:
    """A channel, its tenant and its opened configuration JSON."""

    channel: ChannelRecord
    tenant: TenantRecord
    config: str


OPENED_CONFIGS_KEPT = 1024
"""Opened channel configurations kept per process (least recently used first out)."""


class ChannelDirectory:
    """Resolves channels by public id (URLs) or internal id (outbox)."""

    def __init__(self, store: Store, box: SecretBox) -> None:
        self._store = store
        self._box = box
        # Remembered by ciphertext: every push of a channel opens the same sealed
        # configuration, and a changed one is a new key.
        self._open = functools.lru_cache(maxsize=OPENED_CONFIGS_KEPT)(box.open)

    async def by_public_id(self, public_id: str) -> ResolvedChannel:
        """The enabled channel with ``public_id``, or :class:`NotFoundError`."""
        async with self._store.transaction(readonly=True) as tx:
            channel = await tx.channels.get_by_public_id(public_id)
            tenant = await tx.tenants.get(channel.tenant_id) if channel else None
        return self._resolved(public_id, channel, tenant)

    async def by_id(self, channel_id: str) -> ResolvedChannel:
        """The channel with internal id ``channel_id``, or :class:`NotFoundError`."""
        async with self._store.transaction(readonly=True) as tx:
            channel = await tx.channels.get(channel_id)
            tenant = await tx.tenants.get(channel.tenant_id) if channel else None
        return self._resolved(channel_id, channel, tenant)

    def _resolved(
        self, name: str, channel: ChannelRecord | None, tenant: TenantRecord | None
    ) -> ResolvedChannel:
        if channel is None or tenant is None or not channel.enabled:
            raise NotFoundError(f"unknown channel {name!r}", code="unknown_channel")
        return ResolvedChannel(channel, tenant, self._open(channel.config_sealed))

    def seal(self, config_json: str) -> str:
        """Seal a configuration for storage."""
        return self._box.seal(config_json)
