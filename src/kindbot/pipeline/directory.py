"""Finding a channel and opening its sealed configuration, remembered per process.

What is remembered lives in the container's
:class:`~kindbot.pipeline.tenant_cache.TenantCache`; the rules that keep it
current are in that module's docstring. Callers choose: :meth:`by_public_id`
reads now unless asked for the ``cached`` entry (a message's way in, whose
store transaction then checks it with :meth:`current`); :meth:`by_id` always
reads; :meth:`for_send` uses the entry the outbox claim's revision confirms.
"""

from __future__ import annotations

import functools

from kindbot.core.errors import NotFoundError
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord
from kindbot.pipeline.tenant_cache import ResolvedChannel, TenantCache
from kindbot.storage.sealing import SecretBox

__all__ = ["OPENED_CONFIGS_KEPT", "ChannelDirectory", "ResolvedChannel"]

OPENED_CONFIGS_KEPT = 1024
"""Opened channel configurations kept per process (least recently used first out)."""


class ChannelDirectory:
    """Resolves channels by public id (URLs) or internal id (outbox)."""

    def __init__(self, store: Store, box: SecretBox, cache: TenantCache | None = None) -> None:
        self._store = store
        self._box = box
        self._cache = cache or TenantCache()  # shared with the flow runner
        # Remembered by ciphertext: every push of a channel opens the same sealed
        # configuration, and a changed one is a new key.
        self._open = functools.lru_cache(maxsize=OPENED_CONFIGS_KEPT)(box.open)

    async def by_public_id(self, public_id: str, *, cached: bool = False) -> ResolvedChannel:
        """The enabled channel with ``public_id``, or :class:`NotFoundError`.

        ``cached``: the entry this process remembers, when there is one — possibly
        a revision behind, so only for a message's way in, whose store transaction
        checks it (:meth:`current`). Otherwise read now (and remembered, unchecked,
        in place of an entry that differs).
        """
        if cached:
            hit = self._cache.channel_by_public_id(public_id)
            if hit is not None:
                return hit.value
        async with self._store.transaction(readonly=True) as tx:
            channel = await tx.channels.get_by_public_id(public_id)
            tenant = await tx.tenants.get(channel.tenant_id) if channel else None
        hit = self._cache.channel_by_public_id(public_id)
        if hit is not None and not _same(hit.value, channel, tenant):
            self._cache.forget_tenant(hit.value.tenant.id)  # it changed: so may the rest
            hit = None
        resolved = self._resolved(public_id, channel, tenant)
        if hit is None:
            self._cache.remember_channel(resolved, None)
        return resolved

    async def by_id(self, channel_id: str) -> ResolvedChannel:
        """The channel with internal id ``channel_id``, or :class:`NotFoundError` (read now)."""
        async with self._store.transaction(readonly=True) as tx:
            channel = await tx.channels.get(channel_id)
            tenant = await tx.tenants.get(channel.tenant_id) if channel else None
        return self._resolved(channel_id, channel, tenant)

    async def current(
        self, tx: Transaction, resolved: ResolvedChannel, revision: int
    ) -> ResolvedChannel:
        """``resolved`` as it is at its tenant's ``revision`` (read by the caller in ``tx``).

        The remembered entry when it was read at that revision; otherwise the
        tenant's entries are forgotten and the tenant and channel read again in
        ``tx`` (and remembered). :class:`NotFoundError` when the channel is now
        disabled or gone.
        """
        hit = self._cache.channel_by_id(resolved.channel.id, revision)
        if hit is not None:
            return hit
        self._cache.forget_tenant(resolved.tenant.id)
        return await self._read_labelled(tx, resolved.tenant.id, resolved.channel.id)

    async def for_send(
        self, channel_id: str, tenant_id: str, revision: int | None
    ) -> ResolvedChannel:
        """The channel an outbox item of ``tenant_id`` goes out through.

        ``revision``: the tenant's revision read when the item was claimed. The
        remembered entry serves when it was read at that revision; otherwise the
        tenant's entries are forgotten and read again. :class:`NotFoundError`
        when the channel is disabled or gone.
        """
        if revision is not None:
            hit = self._cache.channel_by_id(channel_id, revision)
            if hit is not None:
                return hit
        self._cache.forget_tenant(tenant_id)
        async with self._store.transaction(readonly=True) as tx:
            return await self._read_labelled(tx, tenant_id, channel_id)

    async def _read_labelled(
        self, tx: Transaction, tenant_id: str, channel_id: str
    ) -> ResolvedChannel:
        # The tenant first: its revision is then no newer than the channel read after
        # it, so the label never claims a change the entry does not hold.
        tenant = await tx.tenants.get(tenant_id)
        channel = await tx.channels.get(channel_id)
        if channel is not None and channel.tenant_id != tenant_id:
            channel = None
        resolved = self._resolved(channel_id, channel, tenant)
        assert tenant is not None
        self._cache.remember_channel(resolved, tenant.revision)
        return resolved

    def _resolved(
        self, name: str, channel: ChannelRecord | None, tenant: TenantRecord | None
    ) -> ResolvedChannel:
        if channel is None or tenant is None or not channel.enabled:
            raise NotFoundError(f"unknown channel {name!r}", code="unknown_channel")
        return ResolvedChannel(channel, tenant, self._open(channel.config_sealed))

    def seal(self, config_json: str) -> str:
        """Seal a configuration for storage."""
        return self._box.seal(config_json)


def _same(
    resolved: ResolvedChannel, channel: ChannelRecord | None, tenant: TenantRecord | None
) -> bool:
    return resolved.channel == channel and resolved.tenant == tenant
