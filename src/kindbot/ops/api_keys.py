"""Tenants' API keys: issue, list, revoke and check them.

A key looks like ``kbk_<12 hex>_<43 url-safe characters>`` (256 random bits
after the prefix). Only its SHA-256 is stored, with the public prefix that
finds the row; checking compares the hashes in constant time. Issuing and
revoking a key are audited in the tenant's chain (ids and prefixes only).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from kindbot.bundles.tenants import append_audit
from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.operations import ApiKeyRecord
from kindbot.core.records.tenancy import TenantRecord
from kindbot.guard.audit import AuditDraft

KEY_MARK = "kbk_"
PREFIX_HEX = 12
SECRET_BYTES = 32
MAX_LABEL = 100
AUDIT_KIND = "api_key"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: the secret (shown once) and what is stored of it."""

    key: str
    prefix: str
    key_hash: str


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> NewKey:
    """A new random key (``secrets``), its prefix and its hash."""
    prefix = KEY_MARK + secrets.token_hex(PREFIX_HEX // 2)
    key = f"{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewKey(key, prefix, hash_key(key))


def prefix_of(token: str) -> str | None:
    """The prefix of something shaped like a key, else None (no database needed)."""
    cut = len(KEY_MARK) + PREFIX_HEX
    if not token.startswith(KEY_MARK) or len(token) <= cut + 1 or token[cut] != "_":
        return None
    return token[:cut]


def key_matches(record: ApiKeyRecord, token: str) -> bool:
    """True when ``token`` is the active key ``record`` was made from (constant-time compare)."""
    return record.active and hmac.compare_digest(record.key_hash, hash_key(token))


def clean_label(label: str | None) -> str:
    """A key's label, trimmed; at most :data:`MAX_LABEL` characters (``label`` names the field)."""
    text = " ".join((label or "").split())
    if len(text) > MAX_LABEL:
        raise BadRequestError(f"label: at most {MAX_LABEL} characters", code="invalid_label")
    return text


async def tenant_by_slug(tx: Transaction, slug: str) -> TenantRecord:
    """The tenant ``slug``, or :class:`NotFoundError` ``unknown_tenant``."""
    tenant = await tx.tenants.get_by_slug(slug)
    if tenant is None:
        raise NotFoundError(f"no tenant {slug!r}", code="unknown_tenant")
    return tenant


def _draft(
    tenant: TenantRecord, key: ApiKeyRecord, decision: str, actor: str, at: datetime
) -> AuditDraft:
    detail = {"actor": actor, "key_id": key.id, "prefix": key.prefix, "label": key.label}
    return AuditDraft(
        tenant_id=tenant.id,
        at=at,
        kind=AUDIT_KIND,
        subject=f"api_key:{key.id}",
        rule=AUDIT_KIND,
        decision=decision,
        detail=json.dumps(detail, ensure_ascii=False),
    )


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A stored key and its secret, which is never shown again."""

    record: ApiKeyRecord
    key: str


async def create_api_key(
    store: Store, slug: str, *, label: str | None, actor: str, now: datetime
) -> IssuedKey:
    """Issue a key for tenant ``slug`` and audit it, in one transaction."""
    text = clean_label(label)
    fresh = generate_key()
    async with store.transaction() as tx:
        tenant = await tenant_by_slug(tx, slug)
        record = await tx.api_keys.create(
            tenant_id=tenant.id,
            prefix=fresh.prefix,
            key_hash=fresh.key_hash,
            label=text,
            created_by=actor[:100],
            now=now,
        )
        await append_audit(tx, _draft(tenant, record, "create", actor, now))
    return IssuedKey(record, fresh.key)


async def list_api_keys(store: Store, slug: str) -> list[ApiKeyRecord]:
    """The tenant's keys, revoked ones included, oldest first."""
    async with store.transaction(readonly=True) as tx:
        tenant = await tenant_by_slug(tx, slug)
        return await tx.api_keys.list_for_tenant(tenant.id)


async def revoke_api_key(
    store: Store, slug: str, key_ref: str, *, actor: str, now: datetime
) -> ApiKeyRecord:
    """Revoke the tenant's key named by id or prefix, and audit it.

    Raises :class:`NotFoundError` ``unknown_api_key`` when the tenant has no
    such key that is still active.
    """
    async with store.transaction() as tx:
        tenant = await tenant_by_slug(tx, slug)
        keys = await tx.api_keys.list_for_tenant(tenant.id)
        found = next((k for k in keys if key_ref in (k.id, k.prefix) and k.active), None)
        if found is None or not await tx.api_keys.revoke(tenant.id, found.id, now):
            raise NotFoundError(
                f"tenant {slug!r} has no active API key {key_ref!r}", code="unknown_api_key"
            )
        await append_audit(tx, _draft(tenant, found, "revoke", actor, now))
        revoked = await tx.api_keys.by_prefix(found.prefix)
    assert revoked is not None
    return revoked


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """Who a valid key belongs to."""

    key: ApiKeyRecord
    tenant: TenantRecord


async def check_api_key(store: Store, token: str) -> KeyHolder | None:
    """The active key ``token`` is and its tenant, or None (unknown, revoked or malformed)."""
    prefix = prefix_of(token)
    if prefix is None:
        return None
    async with store.transaction(readonly=True) as tx:
        record = await tx.api_keys.by_prefix(prefix)
        if record is None or not key_matches(record, token):
            return None
        tenant = await tx.tenants.get(record.tenant_id)
    return KeyHolder(record, tenant) if tenant is not None else None
