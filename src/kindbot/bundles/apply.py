"""Applying a bundle: everything in one transaction, idempotently.

All files (the bundle and its knowledge files) are read and validated before
the transaction starts, so an invalid bundle changes nothing; a second apply
of the same bundle reports everything unchanged.

A new tenant (or one changing its industry) whose industry is prohibited is
refused: nothing is applied and the refusal is recorded in the platform's audit
chain. A new tenant starts ``pending`` (see :mod:`kindbot.bundles.tenants`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from kindbot.bundles.addresses import check_addresses
from kindbot.bundles.flows_apply import apply_flows, check_flows
from kindbot.bundles.journeys_spec import apply_journeys
from kindbot.bundles.llm import apply_llm
from kindbot.bundles.loader import _line_of, bundle_node, load_bundle, located_problem
from kindbot.bundles.schema import Bundle, ChannelSpec, channel_settings
from kindbot.bundles.tenants import record_refusal
from kindbot.channels import console
from kindbot.channels.registry import open_config
from kindbot.core.egress import STRICT, AddressPolicy, Resolver, system_resolve
from kindbot.core.errors import InputFileError, InputProblem
from kindbot.core.events import Verdict
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.directory import DefinitionSync
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.core.records.tenancy import TenantStatus
from kindbot.dialogue.kb_files import read_knowledge_file
from kindbot.guard.industries import DEFAULT_PROHIBITED, ProhibitedIndustry, prohibited_reason
from kindbot.guard.policy import settings_from_json, settings_to_json
from kindbot.pipeline.decide.handlers import HandlerModuleError, load_bot
from kindbot.storage.sealing import SealError, SecretBox


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """What an apply changed."""

    tenant_slug: str
    tenant_created: bool
    channels_created: tuple[str, ...]
    channels_updated: tuple[str, ...]
    channels_unchanged: tuple[str, ...]
    kb_created: int
    kb_updated: int
    kb_unchanged: int
    tenant_changed: bool = True
    tenant_status: TenantStatus = TenantStatus.PENDING
    test_contacts_marked: int = 0
    test_contacts_unmarked: int = 0
    flows_changed: bool = False
    attributes: DefinitionSync | None = None
    """What the bundle's ``tenant.attributes`` changed (None: the bundle has no such key)."""


def public_channel_id(tenant_slug: str, local_id: str) -> str:
    """The id used in URLs: ``{tenant}.{channel}`` (unique across tenants)."""
    return f"{tenant_slug}.{local_id}"


def channel_config(spec: ChannelSpec, tenant_name: str) -> str:
    """The configuration JSON stored (sealed) for a channel spec."""
    return channel_settings(spec).for_tenant(tenant_name).model_dump_json()


def read_bundle_knowledge(bundle: Bundle, bundle_path: Path) -> list[KnowledgeEntry]:
    """Every entry of every knowledge file, validated; duplicate ids across files are errors.

    A knowledge file that is missing (or not a file) is reported at the bundle's
    ``knowledge[i].file`` line; problems inside a knowledge file name that file.
    """
    entries: list[KnowledgeEntry] = []
    problems: list[InputProblem] = []
    seen: dict[str, str] = {}
    for position, source in enumerate(bundle.knowledge):
        if source.file is None:
            continue
        path = bundle_path.parent / source.file
        if not path.is_file():
            problems.append(
                located_problem(
                    str(bundle_path),
                    bundle_node(bundle_path),
                    ("knowledge", position, "file"),
                    f"no knowledge file {str(path)!r} (paths are relative to the bundle)",
                )
            )
            continue
        try:
            found = read_knowledge_file(path)
        except InputFileError as exc:
            problems.extend(exc.problems)
            continue
        for entry in found:
            if entry.id in seen:
                problems.append(
                    InputProblem(
                        str(path), None, "id", f"id {entry.id!r} is also in {seen[entry.id]}"
                    )
                )
            seen[entry.id] = str(path)
            entries.append(entry)
    if problems:
        raise InputFileError(problems)
    return entries


@dataclass(frozen=True, slots=True)
class PreparedBundle:
    """A bundle and its knowledge entries, read and fully validated.

    ``source`` names the bundle file in messages; ``industry_line`` is the
    line of ``tenant.industry`` in it.
    """

    bundle: Bundle
    entries: tuple[KnowledgeEntry, ...]
    source: str = "bundle"
    industry_line: int | None = None


def _industry_line(path: Path) -> int | None:
    return _line_of(bundle_node(path), ("tenant", "industry"))


def prepare_bundle(path: Path) -> PreparedBundle:
    """Read and validate ``path`` and every file it references (no database needed).

    Raises :class:`InputFileError` naming every problem.
    """
    bundle = load_bundle(path)
    problems: list[InputProblem] = []  # every referenced file's problems, not only the first
    entries: list[KnowledgeEntry] = []
    try:
        entries = read_bundle_knowledge(bundle, path)
    except InputFileError as exc:
        problems.extend(exc.problems)
    for check in (_check_handlers, check_flows):
        try:
            check(bundle, path)
        except InputFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputFileError(problems)
    return PreparedBundle(bundle, tuple(entries), str(path), _industry_line(path))


def _check_handlers(bundle: Bundle, path: Path) -> None:
    """Every named handler module imports and defines ``bot`` (else the file, path, problem)."""
    problems = []
    for position, module in enumerate(bundle.handlers):
        try:
            load_bot(module)
        except HandlerModuleError as exc:
            problems.append(
                located_problem(str(path), bundle_node(path), ("handlers", position), exc.message)
            )
    if problems:
        raise InputFileError(problems)


async def apply_bundle(
    store: Store,
    box: SecretBox,
    path: Path,
    now: datetime,
    *,
    prohibited: Sequence[ProhibitedIndustry] = DEFAULT_PROHIBITED,
    addresses: AddressPolicy = STRICT,
    resolve: Resolver = system_resolve,
) -> ApplyReport:
    """Validate ``path`` and everything it references, then apply it in one transaction."""
    return await apply_prepared(
        store,
        box,
        prepare_bundle(path),
        now,
        prohibited=prohibited,
        addresses=addresses,
        resolve=resolve,
    )


class _RefusedError(Exception):
    """Rolls the apply back when the tenant's industry is prohibited."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason_en)
        self.verdict = verdict


async def apply_prepared(
    store: Store,
    box: SecretBox,
    prepared: PreparedBundle,
    now: datetime,
    *,
    prohibited: Sequence[ProhibitedIndustry] = DEFAULT_PROHIBITED,
    addresses: AddressPolicy = STRICT,
    resolve: Resolver = system_resolve,
) -> ApplyReport:
    """Apply a validated bundle in one transaction (idempotent).

    Raises :class:`InputFileError` (nothing applied) when a configured URL's
    address is refused by ``addresses`` (:func:`check_addresses`), or (the
    refusal audited in the platform chain) when a new tenant, or a tenant
    changing its industry, declares an industry in ``prohibited``.
    """
    await check_addresses(prepared.bundle, prepared.source, addresses, resolve)
    spec = prepared.bundle.tenant
    try:
        return await _apply(store, box, prepared, now, prohibited)
    except _RefusedError as refused:
        verdict = refused.verdict
        await record_refusal(
            store,
            slug=spec.slug,
            name=spec.name,
            industry=spec.industry,
            verdict=verdict,
            source=prepared.source,
            now=now,
        )
        problem = (
            f"{verdict.reason_en} {verdict.remedy_en} / {verdict.reason_zh}{verdict.remedy_zh}"
        )
        raise InputFileError(
            [
                InputProblem(
                    prepared.source, prepared.industry_line, "tenant.industry", problem, "line"
                )
            ]
        ) from None


async def _apply(
    store: Store,
    box: SecretBox,
    prepared: PreparedBundle,
    now: datetime,
    prohibited: Sequence[ProhibitedIndustry],
) -> ApplyReport:
    bundle, entries = prepared.bundle, prepared.entries
    async with store.transaction() as tx:
        spec = bundle.tenant
        before = await tx.tenants.get_by_slug(spec.slug)
        if before is None or before.industry != spec.industry:
            verdict = prohibited_reason(spec.industry, prohibited)
            if verdict is not None:
                raise _RefusedError(verdict)
        tenant, created = await tx.tenants.upsert(
            slug=spec.slug,
            name=spec.name,
            industry=spec.industry,
            timezone=spec.timezone,
            language=spec.language,
            kb_threshold=bundle.kb.threshold,
            now=now,
        )
        if bundle.guard is not None:
            tier = settings_from_json(tenant.guard_json).trust_tier
            guard_json = settings_to_json(bundle.guard.settings(trust_tier=tier))
            if guard_json != tenant.guard_json:
                await tx.tenants.set_guard(tenant.id, guard_json)
                tenant = replace(tenant, guard_json=guard_json)
        if "handlers" in bundle.model_fields_set and tuple(bundle.handlers) != tenant.handlers:
            await tx.tenants.set_handlers(tenant.id, bundle.handlers)
            tenant = replace(tenant, handlers=tuple(bundle.handlers))
        hours = bundle.service_hours
        hours_json = hours.hours(spec.timezone).to_json() if hours is not None else None
        if hours_json != tenant.service_hours_json:
            await tx.tenants.set_service_hours(tenant.id, hours_json)
            tenant = replace(tenant, service_hours_json=hours_json)
        attributes = None
        if "attributes" in spec.model_fields_set:
            attributes = await tx.attributes.replace_definitions(
                tenant.id, [a.definition() for a in spec.attributes]
            )
        flows_changed = await apply_flows(tx, box, bundle, tenant.id, now)
        if "journeys" in bundle.model_fields_set:
            await apply_journeys(tx, bundle.journeys, tenant.id, now)
        tenant = await apply_llm(tx, box, tenant, bundle.llm)
        wanted = [(c.id, c.type, channel_config(c, spec.name)) for c in bundle.channels] + [
            (console.LOCAL_ID, console.KIND, console.ConsoleConfig().model_dump_json())
        ]
        outcome: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
        for local_id, kind, config in wanted:
            state = await _upsert_channel(tx, box, tenant.id, spec.slug, local_id, kind, config)
            outcome[state].append(local_id)
        kb_created, kb_updated, kb_unchanged = await tx.knowledge.upsert_many(tenant.id, entries)
        await tx.kb.replace_synonyms(tenant.id, bundle.synonym_groups())
        marked, unmarked = await _apply_test_contacts(tx, bundle, tenant.id, now)
    return ApplyReport(
        tenant_slug=spec.slug,
        tenant_created=created,
        channels_created=tuple(outcome["created"]),
        channels_updated=tuple(outcome["updated"]),
        channels_unchanged=tuple(outcome["unchanged"]),
        kb_created=kb_created,
        kb_updated=kb_updated,
        kb_unchanged=kb_unchanged,
        tenant_changed=created or tenant != before,
        tenant_status=tenant.status,
        test_contacts_marked=marked,
        test_contacts_unmarked=unmarked,
        flows_changed=flows_changed,
        attributes=attributes,
    )


async def _apply_test_contacts(
    tx: Transaction, bundle: Bundle, tenant_id: str, now: datetime
) -> tuple[int, int]:
    """Mark the bundle's test contacts (creating them) and unmark the tenant's others.

    A bundle without a ``test_contacts`` key leaves them as they are (like
    channels, a bundle need not describe everything). Returns (marked,
    unmarked): how many changed.
    """
    if "test_contacts" not in bundle.model_fields_set:
        return 0, 0
    marked = 0
    keep: set[str] = set()
    for wanted in bundle.test_contacts:
        channel = await tx.channels.get_by_public_id(
            public_channel_id(bundle.tenant.slug, wanted.channel)
        )
        assert channel is not None, "validated: the channel is in the bundle"
        contact, changed = await tx.contacts.mark_test(
            tenant_id=tenant_id, channel_id=channel.id, external_id=wanted.external_id, now=now
        )
        keep.add(contact.id)
        marked += changed
    unmarked = 0
    for contact in await tx.contacts.list_test(tenant_id):
        if contact.id not in keep:
            await tx.contacts.unmark_test(contact.id)
            unmarked += 1
    return marked, unmarked


async def _upsert_channel(
    tx: Transaction,
    box: SecretBox,
    tenant_id: str,
    tenant_slug: str,
    local_id: str,
    kind: str,
    config: str,
) -> str:
    public_id = public_channel_id(tenant_slug, local_id)
    existing = await tx.channels.get_by_public_id(public_id)
    if (
        existing is not None
        and existing.kind == kind
        and _opens_to(box, existing.config_sealed, kind, config)
    ):
        return "unchanged"
    await tx.channels.upsert(
        tenant_id=tenant_id,
        public_id=public_id,
        local_id=local_id,
        kind=kind,
        config_sealed=box.seal(config),
    )
    return "created" if existing is None else "updated"


def _opens_to(box: SecretBox, sealed: str, kind: str, config: str) -> bool:
    """Whether ``sealed`` holds the same settings as ``config`` (compared as models, so
    a configuration stored in an earlier JSON layout is not rewritten for its layout)."""
    try:
        return open_config(kind, box.open(sealed)) == open_config(kind, config)
    except (SealError, ValidationError):
        return False
