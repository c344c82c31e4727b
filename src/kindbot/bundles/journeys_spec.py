"""``journeys:`` — follow-ups the shop declares in its bundle (issue 16 §5).

::

    journeys:
      - name: brewing-tips
        trigger: {event: order}      # or {first_contact: true} or {tag: vip}
        delay: 3d                    # 30m, 12h, 3d (at most 90d)
        segment: tea-lovers          # optional: only members when it fires
        topic: care                  # the consent topic the guard checks
        text: 您的茶到了吗？冲泡小贴士：…

Applying the bundle declares each (replacing one of the same name) and
withdraws the shop's journeys the bundle no longer lists (their scheduled
runs are cancelled); without a ``journeys:`` key the shop's journeys are left
as they are (declared through the API).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kindbot.core.errors import BadRequestError
from kindbot.core.journeys import declare_journey, journey_definition, parse_delay
from kindbot.core.ports.seams import Transaction
from kindbot.core.records.journeys import JourneyDefinition, TriggerKind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TriggerSpec(_Strict):
    """Exactly one of: the contact's first message, an event type, a tag added."""

    first_contact: bool = False
    event: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")] | None = None
    tag: Annotated[str, Field(pattern=r"^\S{1,64}$")] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TriggerSpec:
        if sum((self.first_contact, self.event is not None, self.tag is not None)) != 1:
            raise ValueError("give exactly one of first_contact: true, event: TYPE, tag: TAG")
        return self

    def kind(self) -> tuple[TriggerKind, str | None]:
        """The trigger as stored."""
        if self.event is not None:
            return TriggerKind.EVENT, self.event
        if self.tag is not None:
            return TriggerKind.TAG, self.tag
        return TriggerKind.FIRST_CONTACT, None


class JourneySpec(_Strict):
    """One journey of the bundle (checked again by ``core.journeys.journey_definition``)."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    trigger: TriggerSpec
    delay: Annotated[str, Field(pattern=r"^\s*\d{1,5}\s*[mhd]\s*$")]
    segment: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] | None = None
    topic: Annotated[str, Field(pattern=r"^\S{1,64}$")]
    text: Annotated[str, Field(min_length=1, max_length=4000)]

    @field_validator("delay")
    @classmethod
    def _within_limits(cls, value: str) -> str:
        try:
            parse_delay(value)
        except BadRequestError as exc:
            raise ValueError(exc.message) from None
        return value

    def definition(self) -> JourneyDefinition:
        """The checked definition (400 ``invalid_journey`` for a delay over 90 days)."""
        kind, value = self.trigger.kind()
        return journey_definition(
            name=self.name,
            trigger=kind,
            trigger_value=value,
            delay=self.delay,
            topic=self.topic,
            text=self.text,
            segment=self.segment,
        )


async def apply_journeys(
    tx: Transaction, specs: list[JourneySpec], tenant_id: str, now: datetime
) -> int:
    """Declare every listed journey and withdraw the tenant's others; how many are listed."""
    listed = {spec.name for spec in specs}
    for spec in specs:
        await declare_journey(tx, tenant_id, spec.definition(), now)
    for journey in await tx.journeys.list_for_tenant(tenant_id):
        if journey.enabled and journey.definition.name not in listed:
            await tx.journeys.disable(journey.id, now)
    return len(specs)
