"""Recording a tenant's business events: a batch from the API, or a whole file from the CLI.

Both validate every event first (:mod:`kindbot.analytics.events`) and apply
in ONE transaction, so a bad event means nothing is applied. An event's
contact is resolved here: ``contact_id`` must be one of the tenant's
contacts; ``channel`` + ``external_id`` names a contact on one of the
tenant's channels and creates it when kindbot has not seen it (source
``event``, no consent implied: consent is only ever recorded from the
contact's own words). A repeated ``event_id`` is accepted and ignored.

Files (:func:`import_event_file`) are CSV (a header row naming the fields;
``properties`` as a JSON object in its cell) or JSON Lines (one object per
line), chosen by extension. A file is read once: each row is checked (a
problem names the file, the row and the field) and applied in chunks inside
ONE transaction, which a bad row anywhere rolls back; memory does not grow
with the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from kindbot.analytics.events import (
    MAX_BATCH,
    MAX_PROBLEMS,
    EventFieldError,
    EventProblem,
    InvalidEventsError,
    parse_batch,
    parse_event,
)
from kindbot.core.errors import (
    BadRequestError,
    InputFileError,
    InputProblem,
    KindbotError,
    PayloadTooLargeError,
)
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.analytics import BusinessEvent, ImportOutcome, NewBusinessEvent
from kindbot.core.records.conversations import ContactSource
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord
from kindbot.ops.contacts import find_channel

CHUNK = 5000
"""Events applied per round of statements during a file import."""


class EventApplier:
    """Applies validated events to one open transaction, remembering resolved contacts."""

    def __init__(self, tx: Transaction, tenant: TenantRecord, now: datetime) -> None:
        self._tx = tx
        self._tenant = tenant
        self._now = now
        self._channels: dict[str, ChannelRecord] = {}
        self._contacts: dict[tuple[str, str], str] = {}
        self._by_id: dict[str, str] = {}  # contact id -> its channel id

    async def apply(self, events: Sequence[BusinessEvent], first_index: int = 0) -> ImportOutcome:
        """Store ``events`` (the ``first_index``-th of the batch first).

        Raises :class:`InvalidEventsError` for an unknown channel or contact id
        (the caller's transaction then rolls everything back).
        """
        resolved = await self._resolve(events, first_index)
        existing = await self._tx.events.existing_ids(
            self._tenant.id, [e.event_id for e in resolved]
        )
        fresh: list[NewBusinessEvent] = []
        for event in resolved:
            if event.event_id not in existing:
                existing.add(event.event_id)
                fresh.append(event)
        await self._tx.events.insert_new(self._tenant.id, fresh, self._now)
        return ImportOutcome(accepted=len(fresh), duplicates=len(resolved) - len(fresh))

    async def _resolve(
        self, events: Sequence[BusinessEvent], first_index: int
    ) -> list[NewBusinessEvent]:
        problems: list[EventProblem] = []
        wanted: dict[str, set[str]] = {}
        for index, event in enumerate(events, first_index):
            contact = event.contact
            try:
                if contact.contact_id is not None:
                    await self._known_contact(contact.contact_id)
                else:
                    assert contact.channel is not None
                    assert contact.external_id is not None
                    channel = await self._channel(contact.channel)
                    if (channel.id, contact.external_id) not in self._contacts:
                        wanted.setdefault(channel.id, set()).add(contact.external_id)
            except EventFieldError as exc:
                problems.append(EventProblem(index, exc.field, exc.reason))
        if problems:
            raise InvalidEventsError(problems[:MAX_PROBLEMS], len(problems))
        for channel_id, external_ids in wanted.items():
            found = await self._tx.contacts.ensure_many(
                tenant_id=self._tenant.id,
                channel_id=channel_id,
                external_ids=sorted(external_ids),
                source=ContactSource.EVENT,
                now=self._now,
            )
            self._contacts.update(((channel_id, ext), cid) for ext, cid in found.items())
        return [self._stored(event) for event in events]

    def _stored(self, event: BusinessEvent) -> NewBusinessEvent:
        contact = event.contact
        if contact.contact_id is not None:
            contact_id, channel_id = contact.contact_id, self._by_id[contact.contact_id]
        else:
            assert contact.channel is not None
            assert contact.external_id is not None
            channel_id = self._channels[contact.channel].id
            contact_id = self._contacts[(channel_id, contact.external_id)]
        return NewBusinessEvent(
            event_id=event.event_id,
            type=event.type,
            occurred_at=event.occurred_at,
            contact_id=contact_id,
            channel_id=channel_id,
            amount_minor=event.amount_minor,
            currency=event.currency,
            order_id=event.order_id,
            properties_json=event.properties_json,
        )

    async def _channel(self, local_id: str) -> ChannelRecord:
        channel = self._channels.get(local_id)
        if channel is None:
            try:
                channel = await find_channel(self._tx, self._tenant, local_id)
            except KindbotError:
                raise EventFieldError(
                    "channel", f"tenant {self._tenant.slug!r} has no channel {local_id!r}"
                ) from None
            self._channels[local_id] = channel
        return channel

    async def _known_contact(self, contact_id: str) -> None:
        if contact_id in self._by_id:
            return
        contact = await self._tx.contacts.get(contact_id)
        if contact is None or contact.tenant_id != self._tenant.id:
            raise EventFieldError("contact_id", "no such contact")
        self._by_id[contact_id] = contact.channel_id


async def record_events(
    store: Store, tenant: TenantRecord, rows: Sequence[object], now: datetime
) -> ImportOutcome:
    """Validate and store one batch (at most :data:`MAX_BATCH` events), all or nothing.

    413 ``too_many_events`` over the limit; 422 ``invalid_events`` naming each
    bad event's index and field (nothing is stored then).
    """
    if len(rows) > MAX_BATCH:
        raise PayloadTooLargeError(
            f"events: {len(rows)} in one request; at most {MAX_BATCH}", code="too_many_events"
        )
    if not rows:
        raise BadRequestError("events: at least one event is required", code="invalid_events")
    events = parse_batch(rows)
    async with store.transaction() as tx:
        return await EventApplier(tx, tenant, now).apply(events)


# -- files ---------------------------------------------------------------------------------


Row = tuple[int, Mapping[str, object] | EventFieldError]
"""A file's row number (as a person counts: CSV header = row 1; JSON Lines' line) and its
fields, or what made it unreadable."""


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for number, row in enumerate(reader, start=2):
            if None in row:
                yield number, EventFieldError("row", "more cells than the header has columns")
                continue
            fields: dict[str, object] = {k.strip(): v for k, v in row.items() if k and v}
            text = fields.get("properties")
            if isinstance(text, str):
                try:
                    fields["properties"] = json.loads(text, parse_float=Decimal)
                except ValueError:
                    yield number, EventFieldError("properties", "not valid JSON")
                    continue
            yield number, fields


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, parse_float=Decimal)
            except ValueError:
                yield number, EventFieldError("event", "not valid JSON")
                continue
            if not isinstance(value, dict):
                yield number, EventFieldError("event", "must be a JSON object")
                continue
            yield number, value


def _rows(path: Path) -> tuple[Iterator[Row], str]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _csv_rows(path), "row"
        if suffix in {".jsonl", ".ndjson"}:
            return _jsonl_rows(path), "line"
    except OSError as exc:
        raise _file_problem(path, f"cannot read: {exc.strerror}") from None
    raise _file_problem(path, "unknown format: use .csv or .jsonl (JSON Lines)")


def _file_problem(path: Path, problem: str) -> InputFileError:
    return InputFileError([InputProblem(str(path), None, "", problem)])


def _parsed(path: Path) -> Iterator[tuple[int, str, BusinessEvent | EventFieldError]]:
    rows, label = _rows(path)
    try:
        for number, row in rows:
            if isinstance(row, EventFieldError):
                yield number, label, row
                continue
            try:
                yield number, label, parse_event(row)
            except EventFieldError as exc:
                yield number, label, exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _file_problem(path, f"cannot read: {exc}") from None


def estimate_rows(path: Path) -> int:
    """About how many events the file has (its lines; for a progress bar), 0 if unreadable."""
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return 0


async def import_event_file(
    store: Store,
    tenant: TenantRecord,
    path: Path,
    now: datetime,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportOutcome:
    """Validate and apply the file's events in ONE transaction: all of them or nothing.

    Each row is read and checked once and applied in chunks of :data:`CHUNK`;
    after the first bad row nothing more is applied, the rest is still
    checked, and :class:`InputFileError` names up to :data:`MAX_PROBLEMS` bad
    rows (file, row, field) — raising rolls back what was applied.
    ``progress`` is called with the number of rows read after each chunk.
    """
    async with store.transaction() as tx:
        await tx.events.begin_bulk()
        try:
            return await _import_rows(tx, tenant, path, now, progress)
        finally:
            await tx.events.end_bulk()


async def _import_rows(
    tx: Transaction,
    tenant: TenantRecord,
    path: Path,
    now: datetime,
    progress: Callable[[int], None],
) -> ImportOutcome:
    """The body of :func:`import_event_file`, inside its transaction."""
    problems: list[InputProblem] = []
    accepted = duplicates = rows = unreported = 0
    applier = EventApplier(tx, tenant, now)
    chunk: list[BusinessEvent] = []
    where: list[tuple[int, str]] = []  # the row number and label of each event in chunk

    async def flush() -> None:
        nonlocal accepted, duplicates, unreported
        if chunk and not problems:
            try:
                outcome = await applier.apply(chunk)
            except InvalidEventsError as exc:
                for p in exc.problems:
                    number, label = where[p.index]
                    problems.append(InputProblem(str(path), number, p.field, p.reason, label))
            else:
                accepted += outcome.accepted
                duplicates += outcome.duplicates
        progress(unreported)
        unreported = 0
        chunk.clear()
        where.clear()

    for number, label, parsed in _parsed(path):
        rows += 1
        unreported += 1
        if isinstance(parsed, EventFieldError):
            if len(problems) < MAX_PROBLEMS:
                problems.append(InputProblem(str(path), number, parsed.field, parsed.reason, label))
        elif not problems:
            chunk.append(parsed)
            where.append((number, label))
        if unreported >= CHUNK:
            await flush()
    await flush()
    if problems:
        raise InputFileError(problems[:MAX_PROBLEMS])
    if not rows:
        raise _file_problem(path, "no events")
    return ImportOutcome(accepted, duplicates)
