"""Applying a bundle's ``llm:`` section: the settings sealed at rest, or none.

The settings JSON holds the endpoint's API key, so it is stored only sealed
with the server key (like channel configurations). A bundle without ``llm:``
turns generative answers off. Re-applying the same settings changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from kindbot.bundles.schema import LlmSpec
from kindbot.core.ports.seams import Transaction
from kindbot.core.records.tenancy import TenantRecord
from kindbot.dialogue.grounded import GenerativeSettings
from kindbot.storage.sealing import SealError, SecretBox


def generative_settings(spec: LlmSpec) -> GenerativeSettings:
    """The settings the pipeline reads for ``spec`` (``base_url`` without a trailing slash)."""
    return GenerativeSettings(
        base_url=spec.base_url.rstrip("/"),
        model=spec.model,
        api_key=spec.api_key,
        timeout_seconds=spec.timeout_seconds,
        max_entries=spec.max_entries,
        min_confidence=spec.min_confidence,
        temperature=spec.temperature,
    )


async def apply_llm(
    tx: Transaction, box: SecretBox, tenant: TenantRecord, spec: LlmSpec | None
) -> TenantRecord:
    """Store ``spec`` sealed for ``tenant`` (None: clear it); the tenant as now stored."""
    wanted = generative_settings(spec).to_json() if spec is not None else None
    if _current(box, tenant.llm_sealed) == wanted:
        return tenant
    sealed = box.seal(wanted) if wanted is not None else None
    await tx.tenants.set_llm(tenant.id, sealed)
    return replace(tenant, llm_sealed=sealed)


def _current(box: SecretBox, sealed: str | None) -> str | None:
    if sealed is None:
        return None
    try:
        return box.open(sealed)
    except SealError:
        return ""  # unreadable (another server key): replace it
