"""Who a campaign is for: a tag, explicit contacts, or a segment resolved by whoever owns
segments.

A campaign resolves its audience once, when it is created, to contact ids;
those ids (split into treatment and holdout) are recorded before anything is
sent. Segments are not defined here: the composition root passes a
:data:`SegmentResolver` (a segment's name → its contacts' ids) when segments
exist; without one a segment audience is refused with ``unknown_segment``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.ports.seams import Store
from kindbot.core.records.campaigns import AudienceKind

SegmentResolver = Callable[[str, str], Awaitable[Sequence[str]]]
"""``resolve(tenant_id, segment_name)`` → the ids of the segment's contacts now
(raises :class:`NotFoundError` for an unknown segment)."""

MAX_EXPLICIT_CONTACTS = 10_000
"""Explicit contact ids per campaign (a larger audience is a tag or a segment)."""


@dataclass(frozen=True, slots=True)
class AudienceSpec:
    """A campaign's audience as its creator named it: exactly one of ``tag``,
    ``contact_ids`` (database ids of the tenant's contacts) or ``segment``."""

    tag: str | None = None
    contact_ids: tuple[str, ...] = ()
    segment: str | None = None

    @property
    def kind(self) -> AudienceKind:
        """Which of the three it is (after :meth:`check`)."""
        if self.tag is not None:
            return AudienceKind.TAG
        if self.segment is not None:
            return AudienceKind.SEGMENT
        return AudienceKind.CONTACTS

    @property
    def name(self) -> str | None:
        """The tag's or segment's name (None for explicit contacts)."""
        return self.tag if self.tag is not None else self.segment

    def check(self) -> AudienceSpec:
        """Itself, or :class:`BadRequestError` ``invalid_audience`` unless exactly one
        kind is given and non-empty."""
        given = [self.tag is not None, bool(self.contact_ids), self.segment is not None]
        if sum(given) != 1:
            raise BadRequestError(
                "audience: give exactly one of a tag, contact ids or a segment",
                code="invalid_audience",
            )
        if self.name is not None and not self.name.strip():
            raise BadRequestError("audience: the name must not be empty", code="invalid_audience")
        if len(self.contact_ids) > MAX_EXPLICIT_CONTACTS:
            raise BadRequestError(
                f"audience: at most {MAX_EXPLICIT_CONTACTS} contact ids (use a tag or a segment)",
                code="invalid_audience",
            )
        return self


async def resolve(
    store: Store, tenant_id: str, spec: AudienceSpec, segments: SegmentResolver | None
) -> list[str]:
    """The audience's contact ids now (unknown ids are kept; planning leaves them out).

    A segment is resolved by ``segments`` outside any transaction of ours (it
    reads in its own)."""
    if spec.segment is not None:
        if segments is None:
            raise NotFoundError(f"no segment {spec.segment!r}", code="unknown_segment")
        return list(await segments(tenant_id, spec.segment))
    if spec.tag is not None:
        async with store.transaction(readonly=True) as tx:
            return await tx.tags.contacts_with(tenant_id, spec.tag)
    return list(spec.contact_ids)
