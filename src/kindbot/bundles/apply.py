"""Applying a bundle: everything in one transaction, idempotently.

All files (the bundle and its knowledge files) are read and validated before
the transaction starts, so an invalid bundle changes nothing; a second apply
of the same bundle reports everything unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kindbot.bundles.loader import load_bundle
from kindbot.bundles.schema import Bundle, ChannelSpec, WebchatSpec, WebhookSpec, WeComSpec
from kindbot.channels import console
from kindbot.channels.webchat import WebchatConfig
from kindbot.channels.webhook import WebhookConfig
from kindbot.channels.wechat_oa.config import OAChannelConfig
from kindbot.channels.wecom.config import WeComChannelConfig
from kindbot.dialogue.kb_files import read_knowledge_file
from kindbot.errors import InputFileError, InputProblem
from kindbot.records import KnowledgeEntry
from kindbot.storage.sealing import SealError, SecretBox
from kindbot.types import Store, Transaction


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


def public_channel_id(tenant_slug: str, local_id: str) -> str:
    """The id used in URLs: ``{tenant}.{channel}`` (unique across tenants)."""
    return f"{tenant_slug}.{local_id}"


def channel_config(spec: ChannelSpec, tenant_name: str) -> str:
    """The configuration JSON stored (sealed) for a channel spec."""
    if isinstance(spec, WebchatSpec):
        return WebchatConfig(title=spec.title or tenant_name, greeting=spec.greeting).to_json()
    if isinstance(spec, WebhookSpec):
        return WebhookConfig(secret=spec.secret, outgoing_url=spec.outgoing_url).to_json()
    # The WeChat specs name exactly the fields of their channel configurations.
    fields = spec.model_dump(exclude={"id", "type"})
    fields["api_base"] = fields["api_base"].rstrip("/")
    if isinstance(spec, WeComSpec):
        return WeComChannelConfig(**fields).to_json()
    return OAChannelConfig(**fields).to_json()


def read_bundle_knowledge(bundle: Bundle, bundle_path: Path) -> list[KnowledgeEntry]:
    """Every entry of every knowledge file, validated; duplicate ids across files are errors."""
    entries: list[KnowledgeEntry] = []
    problems: list[InputProblem] = []
    seen: dict[str, str] = {}
    for source in bundle.knowledge:
        path = bundle_path.parent / source.file
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
    """A bundle and its knowledge entries, read and fully validated."""

    bundle: Bundle
    entries: tuple[KnowledgeEntry, ...]


def prepare_bundle(path: Path) -> PreparedBundle:
    """Read and validate ``path`` and every file it references (no database needed).

    Raises :class:`InputFileError` naming every problem.
    """
    bundle = load_bundle(path)
    return PreparedBundle(bundle, tuple(read_bundle_knowledge(bundle, path)))


async def apply_bundle(store: Store, box: SecretBox, path: Path, now: datetime) -> ApplyReport:
    """Validate ``path`` and everything it references, then apply it in one transaction."""
    return await apply_prepared(store, box, prepare_bundle(path), now)


async def apply_prepared(
    store: Store, box: SecretBox, prepared: PreparedBundle, now: datetime
) -> ApplyReport:
    """Apply a validated bundle in one transaction (idempotent)."""
    bundle, entries = prepared.bundle, prepared.entries
    async with store.transaction() as tx:
        spec = bundle.tenant
        before = await tx.tenants.get_by_slug(spec.slug)
        tenant, created = await tx.tenants.upsert(
            slug=spec.slug,
            name=spec.name,
            industry=spec.industry,
            timezone=spec.timezone,
            language=spec.language,
            kb_threshold=bundle.kb.threshold,
            now=now,
        )
        wanted = [(c.id, c.type, channel_config(c, spec.name)) for c in bundle.channels] + [
            (console.LOCAL_ID, console.KIND, console.CONFIG_JSON)
        ]
        outcome: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
        for local_id, kind, config in wanted:
            state = await _upsert_channel(tx, box, tenant.id, spec.slug, local_id, kind, config)
            outcome[state].append(local_id)
        kb_created, kb_updated, kb_unchanged = await tx.knowledge.upsert_many(tenant.id, entries)
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
    )


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
        and _opens_to(box, existing.config_sealed, config)
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


def _opens_to(box: SecretBox, sealed: str, config: str) -> bool:
    try:
        return box.open(sealed) == config
    except SealError:
        return False
