"""Request and response bodies of ``/api/v1`` (pydantic; they make the OpenAPI document).

Requests forbid unknown fields. Responses are built from stored records by
``from_record`` constructors, so no route hand-assembles dictionaries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from kindbot.core.records.consent import ConsentRecord
from kindbot.core.records.operations import ApiKeyRecord
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.audit_log import ChainReport
from kindbot.ops.contacts import TestContact


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorDetail(BaseModel):
    """A machine-readable ``code`` and a human ``message``."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """Every 4xx answer: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Invalid request (the message names the field)",
        401: "Missing or invalid credentials (`unauthorized`)",
        403: "The credentials do not reach this resource (`admin_only`, `other_tenant`)",
        404: "Unknown tenant, channel, contact or key",
        409: "Conflicts with the current state",
    }.items()
}


class TenantOut(BaseModel):
    """A tenant as the API shows it."""

    slug: str
    name: str
    industry: str
    timezone: str
    language: str
    status: str
    standing: str
    created_at: datetime

    @classmethod
    def from_record(cls, tenant: TenantRecord) -> TenantOut:
        return cls(
            slug=tenant.slug,
            name=tenant.name,
            industry=tenant.industry,
            timezone=tenant.timezone,
            language=tenant.language,
            status=tenant.status.value,
            standing=tenant.standing,
            created_at=tenant.created_at,
        )


class ReasonIn(_In):
    """Why the admin decides (written to the tenant's audit chain)."""

    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class StatusChangeOut(BaseModel):
    """The tenant after an admin decision, and the audit entry that records it."""

    tenant: TenantOut
    previous: str
    audit_seq: int


class ApiKeyIn(_In):
    """A new key; ``label`` says what it is for (e.g. ``crm-sync``)."""

    label: Annotated[str, Field(max_length=100)] | None = None


class ApiKeyOut(BaseModel):
    """A key as listed: never the secret itself."""

    id: str
    prefix: str
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    active: bool

    @classmethod
    def from_record(cls, key: ApiKeyRecord) -> ApiKeyOut:
        return cls(
            id=key.id,
            prefix=key.prefix,
            label=key.label,
            created_at=key.created_at,
            created_by=key.created_by,
            revoked_at=key.revoked_at,
            active=key.active,
        )


class ApiKeyCreated(ApiKeyOut):
    """A new key with its secret ``key``: shown this once, stored only as a hash."""

    key: str


class TestContactIn(_In):
    """A contact a pending tenant may already message: channel id and the contact's id there."""

    __test__ = False  # not a pytest test class, despite the name

    channel: Annotated[str, Field(min_length=1, max_length=64)]
    external_id: Annotated[str, Field(min_length=1, max_length=200)]


class TestContactOut(BaseModel):
    """A test contact."""

    __test__ = False

    channel: str
    external_id: str
    created_at: datetime

    @classmethod
    def from_record(cls, found: TestContact) -> TestContactOut:
        return cls(
            channel=found.channel,
            external_id=found.contact.external_id,
            created_at=found.contact.created_at,
        )


class ConsentIn(_In):
    """A contact's consent to hear about ``topic`` on this channel, as the contact gave it.

    ``wording`` is the exact text the contact agreed to (required, non-empty);
    ``source`` optionally says how they gave it (``signup form``); the stored
    source is ``api:<actor>`` followed by it.
    """

    topic: Annotated[str, Field(min_length=1, max_length=64)]
    wording: Annotated[str, Field(max_length=2000)]
    source: Annotated[str, Field(max_length=120)] | None = None


class ConsentOut(BaseModel):
    """One consent record, active or withdrawn."""

    id: str
    topic: str
    status: str
    source: str
    wording: str
    granted_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def from_record(cls, consent: ConsentRecord) -> ConsentOut:
        return cls(
            id=consent.id,
            topic=consent.topic,
            status=consent.status.value,
            source=consent.source,
            wording=consent.wording,
            granted_at=consent.granted_at,
            withdrawn_at=consent.withdrawn_at,
        )


class ConsentGranted(BaseModel):
    """The active consent; ``created`` is False when the same consent was already held."""

    consent: ConsentOut
    created: bool


class ConsentList(BaseModel):
    """Every consent record of the contact, oldest first."""

    consents: list[ConsentOut]


class WithdrawOut(BaseModel):
    """How many active consents were withdrawn (0: there were none)."""

    withdrawn: int


class ErasureOut(BaseModel):
    """What the erasure removed (row counts) and the audit entry recording it."""

    erased: bool
    counts: dict[str, int]
    audit_seq: int


class VerifyOut(BaseModel):
    """The result of checking a tenant's audit chain."""

    tenant: str
    ok: bool
    entries: int
    broken_seq: int | None = None
    problem: str | None = None

    @classmethod
    def from_report(cls, report: ChainReport) -> VerifyOut:
        broken = report.broken
        return cls(
            tenant=report.tenant_slug,
            ok=broken is None,
            entries=report.entries,
            broken_seq=broken.seq if broken else None,
            problem=broken.problem if broken else None,
        )
