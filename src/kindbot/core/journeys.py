"""A journey's declaration, checked (pure), and declared in a transaction.

Shared by the bundle (``journeys:``), the REST API and the CLI, so a journey
means the same whichever way it is declared. See :mod:`kindbot.campaigns.journeys`
for how journeys run.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from kindbot.core.errors import BadRequestError
from kindbot.core.ports.seams import Transaction
from kindbot.core.records.journeys import JourneyDefinition, JourneyRecord, TriggerKind

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
WORD = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TAG = re.compile(r"^\S{1,64}$")
DELAY = re.compile(r"^\s*(\d{1,5})\s*([mhd])\s*$")
UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400}
MAX_DELAY = timedelta(days=90)
MAX_TEXT = 4000


def parse_delay(text: str) -> int:
    """``"30m"``, ``"12h"``, ``"3d"`` as seconds (0 … 90 days); 400 ``invalid_journey``."""
    match = DELAY.match(text)
    if match is None:
        raise BadRequestError(
            f"delay {text!r}: a number and m, h or d (30m, 12h, 3d)", code="invalid_journey"
        )
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if seconds > MAX_DELAY.total_seconds():
        raise BadRequestError("delay: at most 90 days", code="invalid_journey")
    return seconds


def format_delay(seconds: int) -> str:
    """The shortest of ``3d`` / ``12h`` / ``30m`` that says ``seconds`` exactly."""
    for unit in ("d", "h", "m"):
        if seconds % UNIT_SECONDS[unit] == 0:
            return f"{seconds // UNIT_SECONDS[unit]}{unit}"
    return f"{seconds // 60}m"  # pragma: no cover - delays are whole minutes


def journey_definition(
    *,
    name: str,
    trigger: TriggerKind,
    trigger_value: str | None,
    delay: str,
    topic: str,
    text: str,
    segment: str | None = None,
) -> JourneyDefinition:
    """A checked definition; 400 ``invalid_journey`` naming each bad field otherwise."""
    problems = []
    if not NAME.match(name):
        problems.append("name: lower-case letters, digits, - and _ (at most 64)")
    if trigger is TriggerKind.FIRST_CONTACT and trigger_value is not None:
        problems.append("trigger: first_contact takes no value")
    if trigger is TriggerKind.EVENT and not (trigger_value and WORD.match(trigger_value)):
        problems.append("trigger: an event type ([a-z][a-z0-9_]*)")
    if trigger is TriggerKind.TAG and not (trigger_value and TAG.match(trigger_value)):
        problems.append("trigger: a tag (1 to 64 characters, no spaces)")
    if not TAG.match(topic):
        problems.append("topic: one word of 1 to 64 characters")
    if not text.strip() or len(text) > MAX_TEXT:
        problems.append(f"text: 1 to {MAX_TEXT} characters")
    if segment is not None and not NAME.match(segment):
        problems.append("segment: a saved segment's name")
    if problems:
        raise BadRequestError("; ".join(problems), code="invalid_journey")
    return JourneyDefinition(
        name=name,
        trigger=trigger,
        trigger_value=trigger_value,
        delay_seconds=parse_delay(delay),
        topic=topic,
        text=text.strip(),
        segment=segment,
    )


async def declare_journey(
    tx: Transaction, tenant_id: str, definition: JourneyDefinition, now: datetime
) -> JourneyRecord:
    """Create or replace (and enable) the journey inside ``tx``. When its trigger is new —
    a new journey, a changed trigger, a withdrawn one declared again — only what happens
    from ``now`` starts it: for a tag trigger, the contacts already holding the tag are
    recorded as skipped."""
    before = await tx.journeys.get(tenant_id, definition.name)
    journey = await tx.journeys.put(tenant_id, definition, now)
    fresh = before is None or before.declared_at != journey.declared_at
    if definition.trigger is TriggerKind.TAG and fresh:
        await tx.journeys.mark_tagged_before(journey, now)
    return journey
