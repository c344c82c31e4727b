"""Contract: the outbox, where every admitted message waits for its channel.

Contract module: imports nothing of ours but records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.records.outbox import HandoverClaim, HandoverLease, OutboxItem


class OutboxRepository(Protocol):
    """Outbound messages awaiting delivery; claimed with a lease."""

    async def enqueue(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        contact_id: str,
        message_id: str,
        text: str,
        not_before: datetime,
        now: datetime,
        handover: HandoverLease | None = None,
    ) -> OutboxItem:
        """A ``pending`` item due at ``not_before`` — or, with ``handover``, one already
        ``handed_over`` to that caller (as :meth:`hand_over` would make it, without a
        second statement)."""
        ...

    async def for_message(self, message_id: str) -> OutboxItem | None: ...

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxItem]:
        """Claim for one worker: pending items due at ``now``, and items whose lease
        expired — a worker's (``sending``) or an unconfirmed hand-over's (``handed_over``).
        Each item carries its tenant's current revision (``tenant_revision``)."""
        ...

    async def mark_delivered(self, outbox_id: str, at: datetime) -> None:
        """Record delivery (also of the outbound message); idempotent."""
        ...

    async def hand_over(
        self, outbox_id: str, *, token: str, lease_until: datetime, again: bool
    ) -> bool:
        """Mark the item ``handed_over`` under ``token`` until ``lease_until``; True when it did.

        A caller hands the reply over itself (a passive reply, a response body):
        only while the item is ``pending`` — or, with ``again`` (a retried
        request: the earlier answer never arrived), also while another hand-over
        holds it. Never once a worker claimed it or it was delivered. An
        unconfirmed hand-over whose lease ran out is the worker's (:meth:`claim_due`).
        """
        ...

    async def confirm_handover(self, outbox_id: str, token: str, at: datetime) -> bool:
        """``handed_over`` under ``token`` → ``delivered`` (its message too): the response
        carrying it was sent. False (nothing changed) when another claim holds it now."""
        ...

    async def confirm_handovers(self, claims: Sequence[HandoverClaim], at: datetime) -> int:
        """:meth:`confirm_handover` for many claims at once (set-based: one statement
        for the outbox rows, one for their messages); how many were confirmed. A
        claim whose token no longer holds its row confirms nothing."""
        ...

    async def give_back_handovers(self, claims: Sequence[HandoverClaim], now: datetime) -> int:
        """:meth:`give_back` for many claims at once (one statement); how many were given back."""
        ...

    async def give_back(self, outbox_id: str, token: str, now: datetime) -> bool:
        """``handed_over`` under ``token`` → ``pending``, due at ``now``: the caller could
        not hand it over (deadline passed, caller gone). False when ``token`` no longer holds it."""
        ...

    async def settle_handovers(self, now: datetime, leased_from: datetime) -> int:
        """Record as delivered every unconfirmed hand-over whose lease ended by ``now``
        and not before ``leased_from`` (its caller evidently got the answer: see
        :meth:`kindbot.pipeline.deliver.outbox.OutboxWorker.serving`); how many."""
        ...

    async def release(self, outbox_id: str, now: datetime) -> bool:
        """Make a held ``pending`` item due at ``now``; True when it was still pending."""
        ...

    async def mark_retry(self, outbox_id: str, error: str, next_attempt_at: datetime) -> None: ...
    async def mark_failed(self, outbox_id: str, error: str) -> None: ...
