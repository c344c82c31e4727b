"""Tenants and their channels: who a message is for and where it arrived."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class TenantStatus(StrEnum):
    """Lifecycle of a tenant (the guard's tenant_status rule reads it)."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class TenantRecord:
    """A business hosted on the platform."""

    id: str
    slug: str
    name: str
    industry: str
    timezone: str
    language: str
    status: TenantStatus
    kb_threshold: float | None
    created_at: datetime
    kb_version: int = 0
    """Bumped by every knowledge-base change (retrieval indexes are rebuilt on a change)."""
    guard_json: str | None = None
    """The bundle's ``guard:`` settings as JSON (None: platform defaults)."""
    standing: str = "ok"
    """Violation standing: ``ok``, ``warning`` or ``throttled`` (suspension is ``status``)."""
    handlers: tuple[str, ...] = ()
    """Python modules (each defining ``bot``) whose handlers answer before the knowledge base."""
    llm_sealed: str | None = field(default=None, repr=False)
    """The bundle's ``llm:`` settings, sealed (they hold a key); None: no generative answers."""
    service_hours_json: str | None = None
    """The bundle's ``service_hours:`` (:class:`kindbot.dialogue.service_hours.ServiceHours`
    JSON); None: not configured."""
    revision: int = 0
    """Bumped by every change of the tenant, its channels, flows or knowledge base
    (what processes cache; ``pipeline/tenant_cache.py``)."""


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """One channel of a tenant.

    ``public_id`` (``{tenant_slug}.{local_id}``) appears in URLs; ``config_sealed``
    is the channel's configuration JSON, encrypted with the server key; only
    the channel directory opens it.
    """

    id: str
    tenant_id: str
    public_id: str
    local_id: str
    kind: str
    config_sealed: str
    enabled: bool
