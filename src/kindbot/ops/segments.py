"""Saved segments and their members: what the API (``/segments``) and ``kindbot segment`` call.

A definition is validated (:mod:`kindbot.segments.codec`), its channels are
checked against the tenant's, and it is resolved at ``now`` in the tenant's
time zone (:mod:`kindbot.segments.resolve`) before storage evaluates it in
SQL. Saving checks the definition can be evaluated (nothing half-saved):
invalid → 422 ``invalid_segment``, a name taken → 409 ``segment_exists``,
an unknown name → 404 ``unknown_segment``; an attribute condition is typed by
the tenant's declared attributes (422 for an undeclared one or a value of
another type).

:func:`segment_audience` resolves a segment to the contact ids a campaign's
:class:`~kindbot.campaigns.planner.Audience` takes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kindbot.analytics.money import DEFAULT_CURRENCY
from kindbot.analytics.periods import tenant_zone
from kindbot.campaigns.planner import Audience
from kindbot.core.errors import ConflictError, NotFoundError
from kindbot.core.ports.seams import Clock, Store, Transaction
from kindbot.core.records.segments import SegmentMember, SegmentQuery, SegmentRecord
from kindbot.core.records.tenancy import TenantRecord
from kindbot.segments.codec import (
    InvalidSegmentError,
    SegmentProblem,
    check_name,
    definition_text,
    parse_definition_text,
)
from kindbot.segments.definition import (
    AnyOfCondition,
    ChannelCondition,
    Condition,
    SegmentDefinition,
)
from kindbot.segments.resolve import resolve

SAMPLE_SIZE = 20
"""Members a preview shows."""
MEMBER_CHUNK = 50_000
"""Member ids read per statement when listing every member."""


@dataclass(frozen=True, slots=True)
class SavedSegment:
    """A saved segment with its parsed definition."""

    name: str
    definition: SegmentDefinition
    created_at: datetime
    created_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Preview:
    """How many contacts are members now, and the first few by id."""

    count: int
    sample: tuple[SegmentMember, ...]


def _saved(record: SegmentRecord) -> SavedSegment:
    return SavedSegment(
        name=record.name,
        definition=parse_definition_text(record.definition_json),
        created_at=record.created_at,
        created_by=record.created_by,
        updated_at=record.updated_at,
    )


def _channels(conditions: tuple[Condition, ...], path: str) -> list[tuple[str, str]]:
    """Every ``(path, channel id)`` a channel condition names."""
    found: list[tuple[str, str]] = []
    for index, condition in enumerate(conditions):
        where = f"{path}[{index}]"
        if isinstance(condition, ChannelCondition):
            found += [(f"{where}.channel", local) for local in condition.channels]
        elif isinstance(condition, AnyOfCondition):
            found += _channels(condition.conditions, f"{where}.any_of")
    return found


async def _query(
    tx: Transaction, tenant: TenantRecord, definition: SegmentDefinition, now: datetime
) -> SegmentQuery:
    """The definition resolved at ``now``; 422 for a channel the tenant does not have,
    400 for a condition storage cannot evaluate."""
    named = _channels(definition.conditions, "all_of")
    if named:
        known = {ch.local_id for ch in await tx.channels.list_for_tenant(tenant.id)}
        unknown = [
            SegmentProblem(p, f"the tenant has no channel {c!r}")
            for p, c in named
            if c not in known
        ]
        if unknown:
            raise InvalidSegmentError(unknown)
    declared = {d.name: d.type for d in await tx.attributes.definitions(tenant.id)}
    query = resolve(
        definition,
        tenant_id=tenant.id,
        now=now,
        zone=tenant_zone(tenant.timezone),
        currency=DEFAULT_CURRENCY,
        attributes=declared,
    )
    tx.segments.check(query)
    return query


def _unknown(tenant: TenantRecord, name: str) -> NotFoundError:
    return NotFoundError(f"tenant {tenant.slug!r} has no segment {name!r}", code="unknown_segment")


async def create_segment(
    store: Store,
    tenant: TenantRecord,
    name: str,
    definition: SegmentDefinition,
    *,
    actor: str,
    now: datetime,
) -> SavedSegment:
    """Save a new segment; 409 ``segment_exists`` when the name is taken."""
    check_name(name)
    async with store.transaction() as tx:
        await _query(tx, tenant, definition, now)
        record = await tx.segments.create(tenant.id, name, definition_text(definition), actor, now)
    if record is None:
        raise ConflictError(
            f"tenant {tenant.slug!r} already has a segment {name!r}", code="segment_exists"
        )
    return _saved(record)


async def replace_segment(
    store: Store, tenant: TenantRecord, name: str, definition: SegmentDefinition, *, now: datetime
) -> SavedSegment:
    """Replace a saved segment's definition; 404 ``unknown_segment``."""
    async with store.transaction() as tx:
        await _query(tx, tenant, definition, now)
        record = await tx.segments.update(tenant.id, name, definition_text(definition), now)
    if record is None:
        raise _unknown(tenant, name)
    return _saved(record)


async def delete_segment(store: Store, tenant: TenantRecord, name: str) -> None:
    """Delete a saved segment; 404 ``unknown_segment``."""
    async with store.transaction() as tx:
        deleted = await tx.segments.delete(tenant.id, name)
    if not deleted:
        raise _unknown(tenant, name)


async def list_segments(store: Store, tenant: TenantRecord) -> list[SavedSegment]:
    """The tenant's saved segments by name."""
    async with store.transaction(readonly=True) as tx:
        return [_saved(r) for r in await tx.segments.of_tenant(tenant.id)]


async def get_segment(store: Store, tenant: TenantRecord, name: str) -> SavedSegment:
    """The saved segment ``name``; 404 ``unknown_segment``."""
    async with store.transaction(readonly=True) as tx:
        record = await tx.segments.get(tenant.id, name)
    if record is None:
        raise _unknown(tenant, name)
    return _saved(record)


async def preview_definition(
    store: Store,
    tenant: TenantRecord,
    definition: SegmentDefinition,
    *,
    now: datetime,
    sample: int = SAMPLE_SIZE,
) -> Preview:
    """The member count at ``now`` and the first ``sample`` members by contact id."""
    async with store.transaction(readonly=True) as tx:
        query = await _query(tx, tenant, definition, now)
        count = await tx.segments.count(query)
        members = await tx.segments.sample(query, sample) if count else []
    return Preview(count, tuple(members))


async def preview_segment(
    store: Store, tenant: TenantRecord, name: str, *, now: datetime, sample: int = SAMPLE_SIZE
) -> Preview:
    """:func:`preview_definition` of the saved segment ``name``."""
    saved = await get_segment(store, tenant, name)
    return await preview_definition(store, tenant, saved.definition, now=now, sample=sample)


async def member_id_chunks(
    store: Store,
    tenant: TenantRecord,
    definition: SegmentDefinition,
    *,
    now: datetime,
    chunk: int = MEMBER_CHUNK,
) -> AsyncIterator[list[str]]:
    """Every member's contact id at ``now``, in id order, ``chunk`` at a time (one
    statement per chunk, each its own read; ``now`` is fixed for all of them)."""
    async with store.transaction(readonly=True) as tx:
        query = await _query(tx, tenant, definition, now)
    after: str | None = None
    while True:
        async with store.transaction(readonly=True) as tx:
            ids = await tx.segments.member_ids(query, after, chunk)
        if ids:
            yield ids
        if len(ids) < chunk:
            return
        after = ids[-1]


async def is_member(
    store: Store, tenant: TenantRecord, name: str, contact_id: str, *, now: datetime
) -> bool:
    """Whether the contact is in the saved segment ``name`` at ``now`` (a journey's
    condition when it fires); 404 ``unknown_segment``."""
    saved = await get_segment(store, tenant, name)
    async with store.transaction(readonly=True) as tx:
        query = await _query(tx, tenant, saved.definition, now)
        return await tx.segments.has_member(query, contact_id)


SegmentCheck = Callable[[str, str, str], Awaitable[bool]]
"""``(tenant id, segment name, contact id) -> member now?``"""


def segment_checker(store: Store, clock: Clock) -> SegmentCheck:
    """A journey's condition check: whether the contact is in the tenant's saved segment
    at the clock's now. A tenant or segment that no longer exists holds nobody (False)."""

    async def check(tenant_id: str, name: str, contact_id: str) -> bool:
        async with store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get(tenant_id)
            record = await tx.segments.get(tenant_id, name) if tenant is not None else None
            if tenant is None or record is None:
                return False
            definition = parse_definition_text(record.definition_json)
            query = await _query(tx, tenant, definition, clock.now())
            return await tx.segments.has_member(query, contact_id)

    return check


async def segment_audience(
    store: Store, tenant: TenantRecord, name: str, *, now: datetime
) -> Audience:
    """The saved segment ``name``'s members at ``now`` as a campaign audience."""
    saved = await get_segment(store, tenant, name)
    ids: list[str] = []
    async for chunk in member_id_chunks(store, tenant, saved.definition, now=now):
        ids += chunk
    return Audience(contact_ids=tuple(ids))


def segment_resolver(store: Store, clock: Clock) -> Callable[[str, str], Awaitable[Sequence[str]]]:
    """A campaign's segment audience: the ids of the tenant's saved segment's members at
    the clock's now (404 ``unknown_segment``; ``unknown_tenant`` for a tenant gone)."""

    async def resolve(tenant_id: str, name: str) -> Sequence[str]:
        async with store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get(tenant_id)
        if tenant is None:
            raise NotFoundError(f"no tenant {tenant_id!r}", code="unknown_tenant")
        saved = await get_segment(store, tenant, name)
        ids: list[str] = []
        async for chunk in member_id_chunks(store, tenant, saved.definition, now=clock.now()):
            ids.extend(chunk)
        return ids

    return resolve
