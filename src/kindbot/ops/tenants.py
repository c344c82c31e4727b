"""Signing a tenant up through the API: the bundle's onboarding, without a bundle file.

A signup is a bundle with only ``tenant:`` applied by
:func:`kindbot.bundles.apply.apply_prepared` — the same code as ``kindbot
apply``: the industry check (a refusal is recorded in the platform chain),
``pending`` status, and the console channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from kindbot.bundles.apply import PreparedBundle, apply_prepared
from kindbot.bundles.schema import Bundle, TenantSpec
from kindbot.core.errors import InputFileError, KindbotError
from kindbot.core.ports.seams import Store
from kindbot.core.records.tenancy import TenantRecord
from kindbot.guard.industries import ProhibitedIndustry
from kindbot.storage.sealing import SecretBox


class TenantExistsError(KindbotError):
    """A signup named a slug that is taken."""

    code = "tenant_exists"
    http_status = 409


class IndustryRefusedError(KindbotError):
    """A signup declared a prohibited industry (recorded in the platform chain)."""

    code = "industry_prohibited"
    http_status = 422


async def sign_up_tenant(
    store: Store,
    box: SecretBox,
    spec: TenantSpec,
    *,
    actor: str,
    now: datetime,
    prohibited: Sequence[ProhibitedIndustry],
) -> TenantRecord:
    """Create the tenant ``spec`` as ``pending``; it may then message only its test contacts.

    Raises :class:`TenantExistsError` when the slug is taken and
    :class:`IndustryRefusedError` when the industry is prohibited.
    """
    async with store.transaction(readonly=True) as tx:
        if await tx.tenants.get_by_slug(spec.slug) is not None:
            raise TenantExistsError(f"slug: tenant {spec.slug!r} already exists")
    prepared = PreparedBundle(Bundle(tenant=spec), (), source=f"api:{actor}")
    try:
        await apply_prepared(store, box, prepared, now, prohibited=prohibited)
    except InputFileError as exc:
        problem = exc.problems[0].problem if exc.problems else exc.message
        raise IndustryRefusedError(f"industry: {problem}") from None
    async with store.transaction(readonly=True) as tx:
        created = await tx.tenants.get_by_slug(spec.slug)
    assert created is not None
    return created
