"""Sending campaigns in ``kindbot worker``: scheduled starts, throttled, through the guard.

:class:`CampaignDelivery` is one owned loop (``Container.start_workers``,
drained on shutdown). Each pass:

1. starts every scheduled campaign whose start has come (``sending``);
2. for each sending campaign takes up to a batch of ``planned`` recipients —
   fewer when a throttle (``per_minute``) has been used up in the last minute —
   and plans them with the guard: recipients the plan refuses (no consent,
   caps …) are recorded ``denied`` with the plan's reason and never
   attempted, so a tenant is not charged a violation for them; every other
   recipient goes through :class:`~kindbot.campaigns.proactive.ProactiveSender`,
   which decides again with live facts (quiet hours defer into
   ``deferred_sends``, whose loop decides them again later);
3. marks a campaign ``finished`` when no recipient is planned or deferred.

**Durable and never twice**: a recipient leaves ``planned`` in the same
transaction that puts its message into the outbox (or stores its deferral,
or refuses it), and only if it is still ``planned`` — otherwise that
transaction rolls back. So a worker that stops midway resumes with exactly
the recipients not yet decided, and two workers racing for one recipient
cannot both send to it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from kindbot.campaigns.planner import Audience, Planner
from kindbot.campaigns.proactive import ProactiveOutcome, ProactiveRequest, ProactiveSender
from kindbot.core.errors import NotFoundError
from kindbot.core.events import Decision
from kindbot.core.ports.seams import Clock, Store, Transaction
from kindbot.core.records.campaigns import (
    CampaignRecipient,
    CampaignRecord,
    RecipientStatus,
)
from kindbot.guard.facts import BroadcastFacts

log = logging.getLogger(__name__)

BATCH = 100
"""Recipients one pass takes of one campaign."""

POLL_S = 2.0
"""Pause between passes that found nothing to send."""

THROTTLE_PERIOD = timedelta(minutes=1)


class _AlreadyDecidedError(Exception):
    """Another worker decided this recipient first: roll this send back."""


@dataclass(frozen=True, slots=True)
class PassTally:
    """What one pass did: campaigns started and finished, recipients decided per way."""

    started: int = 0
    sent: int = 0
    deferred: int = 0
    denied: int = 0
    finished: int = 0

    @property
    def decided(self) -> int:
        """Recipients decided in the pass."""
        return self.sent + self.deferred + self.denied


class CampaignDelivery:
    """Starts and sends campaigns (see the module's docstring)."""

    def __init__(
        self, *, store: Store, clock: Clock, planner: Planner, sender: ProactiveSender
    ) -> None:
        self._store = store
        self._clock = clock
        self._planner = planner
        self._sender = sender

    async def run(self) -> None:
        """Pass after pass until cancelled; pauses :data:`POLL_S` when a pass sent nothing."""
        while True:
            try:
                tally = await self.run_once()
            except Exception:  # a failing pass must not stop the loop; the next retries
                log.exception("a campaign delivery pass failed")
                tally = PassTally()
            if tally.decided == 0:
                await asyncio.sleep(POLL_S)

    async def run_once(self) -> PassTally:
        """One pass over every due and sending campaign."""
        now = self._clock.now()
        async with self._store.transaction() as tx:
            started = await tx.campaigns.start_due(now)
            sending = await tx.campaigns.sending()
        tally = PassTally(started=len(started))
        for campaign in sending:
            tally = await self._send_batch(campaign, tally)
            async with self._store.transaction() as tx:
                if await tx.campaigns.finish_if_done(campaign.id, self._clock.now()):
                    tally = _add(tally, finished=1)
        return tally

    async def _send_batch(self, campaign: CampaignRecord, tally: PassTally) -> PassTally:
        now = self._clock.now()
        async with self._store.transaction(readonly=True) as tx:
            budget = BATCH
            if campaign.per_minute is not None:
                used = await tx.campaigns.attempted_since(campaign.id, now - THROTTLE_PERIOD)
                budget = min(budget, campaign.per_minute - used)
            batch = await tx.campaigns.planned(campaign.id, budget) if budget > 0 else []
            tenant = await tx.tenants.get(campaign.tenant_id)
        if not batch or tenant is None:
            return tally
        facts = BroadcastFacts(campaign.treatment, second_approval=campaign.approved_by is not None)
        texts = {variant.name: variant.text for variant in campaign.variants}
        for variant_name in dict.fromkeys(r.variant for r in batch):
            group = [r for r in batch if r.variant == variant_name]
            text = texts[variant_name or ""]
            verdicts = await self._planner.verdicts(
                tenant.slug,
                Audience(contact_ids=tuple(r.contact_id for r in group)),
                topic=campaign.topic,
                text=text,
                broadcast=facts,
            )
            for recipient in group:
                verdict = verdicts.get(recipient.contact_id)
                if verdict is None or verdict.decision is Decision.DENY:
                    reason = verdict.reason_en if verdict is not None else "no such contact"
                    if await self._refuse(recipient, reason):
                        tally = _add(tally, denied=1)
                    continue
                tally = await self._send(campaign, recipient, text, facts, tally)
        return tally

    async def _refuse(self, recipient: CampaignRecipient, reason: str) -> bool:
        async with self._store.transaction() as tx:
            return await tx.campaigns.record_outcome(
                recipient.campaign_id,
                recipient.contact_id,
                status=RecipientStatus.DENIED,
                reason=f"plan: {reason}",
                at=self._clock.now(),
            )

    async def _send(
        self,
        campaign: CampaignRecord,
        recipient: CampaignRecipient,
        text: str,
        facts: BroadcastFacts,
        tally: PassTally,
    ) -> PassTally:
        async def record(tx: Transaction, outcome: ProactiveOutcome, at: datetime) -> None:
            status = _status_of(outcome)
            reason = None if status is RecipientStatus.SENT else outcome.verdict.reason_en
            if not await tx.campaigns.record_outcome(
                campaign.id,
                recipient.contact_id,
                status=status,
                reason=reason,
                at=at,
                message_id=outcome.message_id,
                deferred_id=outcome.deferred_id,
            ):
                raise _AlreadyDecidedError(recipient.contact_id)

        request = ProactiveRequest(
            tenant_id=campaign.tenant_id,
            contact_id=recipient.contact_id,
            topic=campaign.topic,
            text=text,
            broadcast_id=campaign.id,
            broadcast=facts,
        )
        try:
            outcome = await self._sender.send(request, on_decided=record)
        except _AlreadyDecidedError:
            return tally
        except NotFoundError:  # the contact was erased meanwhile (its row went with it)
            return tally
        status = _status_of(outcome)
        if status is RecipientStatus.SENT:
            return _add(tally, sent=1)
        if status is RecipientStatus.DEFERRED:
            return _add(tally, deferred=1)
        return _add(tally, denied=1)


def _status_of(outcome: ProactiveOutcome) -> RecipientStatus:
    if outcome.message_id is not None:
        return RecipientStatus.SENT
    if outcome.deferred_id is not None:
        return RecipientStatus.DEFERRED
    return RecipientStatus.DENIED


def _add(
    tally: PassTally,
    *,
    sent: int = 0,
    deferred: int = 0,
    denied: int = 0,
    finished: int = 0,
) -> PassTally:
    return PassTally(
        started=tally.started,
        sent=tally.sent + sent,
        deferred=tally.deferred + deferred,
        denied=tally.denied + denied,
        finished=tally.finished + finished,
    )
