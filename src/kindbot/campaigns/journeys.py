"""Journeys: durable follow-ups — "3 days after an order, if the contact consented to
``care``, send brewing tips" (issue 16 §5).

A shop declares a journey (bundle ``journeys:`` or the REST API): a trigger
(the contact's first message, a business event of a type, a tag added), a
delay, an optional condition (membership of a saved segment when it fires), a
consent topic and a message. Only triggers after the journey was declared
start it, and each contact runs a journey at most once — a follow-up is a
service, never a drip of reminders.

Two loops in ``kindbot worker`` (owned by its supervisor) do the work, both
through storage so a restart loses nothing:

* **scan** — every :data:`SCAN_INTERVAL_S`, each enabled journey's triggers in
  the last :data:`LOOKBACK` (and since it was declared) whose contact has no
  run yet become *scheduled* runs due at trigger + delay (never in the past);
* **fire** — due runs are claimed with a lease and decided one by one: a
  withdrawn journey or a contact who opted out since the trigger cancels the
  run; a condition that does not hold skips it; otherwise the guard explains
  the send first (a certain refusal — no consent to the topic, say — is
  recorded as skipped, not attempted, so it never counts against the shop),
  then decides it for real through :class:`ProactiveSender`, the guard's only
  door: sent, deferred (a deferred send decides it again when due) or denied.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kindbot.campaigns.proactive import ProactiveRequest, ProactiveSender
from kindbot.core.errors import NotFoundError
from kindbot.core.events import Decision, SendKind
from kindbot.core.journeys import declare_journey
from kindbot.core.ports.seams import Clock, Store
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.journeys import (
    JourneyDefinition,
    JourneyRecord,
    JourneyRun,
    NewJourneyRun,
    RunStatus,
    TriggerSeen,
)

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=2)
"""How far back a scan looks for triggers (a worker that was down this long misses some)."""
SCAN_INTERVAL_S = 30.0
FIRE_POLL_S = 5.0
FIRE_BATCH = 200
SCAN_BATCH = 5_000
LEASE = timedelta(minutes=2)

SegmentCheck = Callable[[str, str, str], Awaitable[bool]]
"""``(tenant_id, segment name, contact_id) -> member?`` — the condition's check."""


def scheduled_runs(
    journey: JourneyRecord, seen: list[TriggerSeen], now: datetime
) -> list[NewJourneyRun]:
    """A scheduled run per trigger, due at trigger + delay but never before ``now``."""
    delay = timedelta(seconds=journey.definition.delay_seconds)
    return [
        NewJourneyRun(
            id=uuid.uuid4().hex,
            tenant_id=journey.tenant_id,
            journey_id=journey.id,
            contact_id=t.contact_id,
            trigger_ref=t.ref,
            triggered_at=t.at,
            due_at=max(t.at + delay, now),
            status=RunStatus.SCHEDULED,
        )
        for t in seen
    ]


class Gate(StrEnum):
    """What stands before asking the guard (decided without I/O)."""

    PROCEED = "proceed"
    WITHDRAWN = "withdrawn"
    GONE = "gone"
    OPTED_OUT = "opted_out"


def gate(journey: JourneyRecord | None, contact: ContactRecord | None) -> Gate:
    """Whether a due run may go on to its condition and the guard: not when its journey
    was withdrawn, its contact erased, opted out by message or unfollowed."""
    if journey is None or not journey.enabled:
        return Gate.WITHDRAWN
    if contact is None:
        return Gate.GONE
    if contact.opted_out_at is not None or not contact.followed:  # an opt-in clears the mark
        return Gate.OPTED_OUT
    return Gate.PROCEED


GATE_REASONS = {
    Gate.WITHDRAWN: "journey withdrawn",
    Gate.GONE: "contact erased",
    Gate.OPTED_OUT: "the contact opted out",
}


@dataclass(frozen=True, slots=True)
class Fired:
    """How one due run ended."""

    run_id: str
    status: RunStatus
    reason: str | None = None
    message_id: str | None = None


class Journeys:
    """Declares and withdraws journeys, and runs the scan and fire loops."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        sender: ProactiveSender,
        segment_check: SegmentCheck | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._sender = sender
        self._segment_check = segment_check

    async def declare(self, tenant_id: str, definition: JourneyDefinition) -> JourneyRecord:
        """Create or replace the journey; a (re)declared tag trigger leaves out the contacts
        already holding the tag (recorded as skipped)."""
        async with self._store.transaction() as tx:
            return await declare_journey(tx, tenant_id, definition, self._clock.now())

    async def withdraw(self, tenant_id: str, name: str) -> int:
        """Disable the journey and cancel its scheduled runs (404 ``unknown_journey``)."""
        async with self._store.transaction() as tx:
            journey = await tx.journeys.get(tenant_id, name)
            if journey is None:
                raise NotFoundError(f"no journey {name!r}", code="unknown_journey")
            return await tx.journeys.disable(journey.id, self._clock.now())

    async def scan(self) -> int:
        """Store a scheduled run for every new trigger of every enabled journey; how many
        triggers were seen."""
        now = self._clock.now()
        async with self._store.transaction(readonly=True) as tx:
            every = await tx.journeys.enabled()
        seen = 0
        for journey in every:
            since = max(journey.declared_at, now - LOOKBACK)
            async with self._store.transaction() as tx:
                found = await tx.journeys.triggers(journey, since, now, SCAN_BATCH)
                await tx.journeys.add_runs(scheduled_runs(journey, found, now))
            seen += len(found)
        return seen

    async def fire_due(self) -> list[Fired]:
        """Decide every due run once (claimed with a lease); how each ended. The runs'
        journeys are read once per batch, with the claim."""
        now = self._clock.now()
        async with self._store.transaction() as tx:
            due = await tx.journeys.claim_due(now, now + LEASE, FIRE_BATCH)
            journeys = {
                j.id: j
                for tenant_id in {run.tenant_id for run in due}
                for j in await tx.journeys.list_for_tenant(tenant_id)
            }
        fired = []
        for run in due:
            try:
                outcome = await self._fire(run, journeys.get(run.journey_id))
            except Exception:  # one run's failure must not stop the others; its lease expires
                log.exception("journey run %s failed", run.id)
                continue
            async with self._store.transaction() as tx:
                await tx.journeys.settle(
                    run.id,
                    outcome.status,
                    reason=outcome.reason,
                    message_id=outcome.message_id,
                    at=self._clock.now(),
                )
            fired.append(outcome)
        return fired

    async def _fire(self, run: JourneyRun, journey: JourneyRecord | None) -> Fired:
        """Decide one due run of ``journey`` (None: withdrawn and gone)."""
        async with self._store.transaction(readonly=True) as tx:
            contact = await tx.contacts.get(run.contact_id)
        checked = gate(journey, contact)
        if checked is not Gate.PROCEED or journey is None:
            return Fired(run.id, RunStatus.CANCELLED, GATE_REASONS.get(checked))
        definition = journey.definition
        if definition.segment is not None:
            if self._segment_check is None:
                return Fired(run.id, RunStatus.SKIPPED, "segment conditions are not available")
            if not await self._segment_check(run.tenant_id, definition.segment, run.contact_id):
                return Fired(run.id, RunStatus.SKIPPED, f"not in segment {definition.segment}")
        request = ProactiveRequest(run.tenant_id, run.contact_id, definition.topic, definition.text)
        foreseen = await self._sender.explain(request, kind=SendKind.PROACTIVE)
        if foreseen.verdict.decision is Decision.DENY:
            verdict = foreseen.verdict
            return Fired(run.id, RunStatus.SKIPPED, f"{verdict.rule}: {verdict.reason_en}")
        outcome = await self._sender.send(request)
        if outcome.decision is Decision.ALLOW:
            return Fired(run.id, RunStatus.SENT, None, outcome.message_id)
        verdict = outcome.verdict
        status = RunStatus.DEFERRED if outcome.decision is Decision.DEFER else RunStatus.DENIED
        return Fired(run.id, status, f"{verdict.rule}: {verdict.reason_en}")

    async def run(self) -> None:
        """Scan every :data:`SCAN_INTERVAL_S` and fire due runs every :data:`FIRE_POLL_S`,
        until cancelled (a failing pass is logged and retried)."""
        last_scan: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            try:
                if last_scan is None or loop.time() - last_scan >= SCAN_INTERVAL_S:
                    last_scan = loop.time()
                    await self.scan()
                fired = await self.fire_due()
            except Exception:
                log.exception("a journeys pass failed")
                fired = []
            if len(fired) < FIRE_BATCH:
                await asyncio.sleep(FIRE_POLL_S)
