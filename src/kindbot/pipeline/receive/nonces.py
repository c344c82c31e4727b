"""Replay protection of signed callbacks: a nonce is used by one message only."""

from __future__ import annotations

from kindbot.core.errors import SignatureError
from kindbot.core.events import CallbackNonce, InboundEvent
from kindbot.core.ports.seams import Transaction
from kindbot.pipeline.directory import ResolvedChannel


async def remember_nonce(
    tx: Transaction, resolved: ResolvedChannel, nonce: CallbackNonce, event: InboundEvent
) -> None:
    """Record the callback's nonce for ``event``; :class:`SignatureError` ``replayed_nonce``
    when the same nonce already came with another message (a retry of the same one is fine)."""
    first = await tx.nonces.remember(
        tenant_id=resolved.tenant.id,
        channel_id=resolved.channel.id,
        nonce=nonce.nonce,
        timestamp=nonce.timestamp,
        fingerprint=event.idempotency_key,
        now=event.received_at,
    )
    if first != event.idempotency_key:
        raise SignatureError("nonce was already used for another message", code="replayed_nonce")
