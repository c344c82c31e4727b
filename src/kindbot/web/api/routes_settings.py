"""``/api/v1/tenants/{slug}/guard/settings``: the shop's own guard limits, which may only
be stricter than the platform's (:mod:`kindbot.ops.guard_settings`, also behind the
dashboard's settings page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from kindbot.guard.policy import GuardPolicy
from kindbot.ops.guard_settings import (
    MAX_LIMIT,
    GuardLimits,
    GuardSettingsView,
    guard_settings_view,
    update_guard_settings,
)
from kindbot.web.api.auth import CurrentPrincipal, TenantAccess
from kindbot.web.api.models import ERRORS
from kindbot.web.deps import container_of

router = APIRouter(tags=["guard"], responses=ERRORS)

Limit = Annotated[int, Field(ge=0, le=MAX_LIMIT)] | None


class GuardLimitsBody(BaseModel):
    """The shop's limits; null (or absent) keeps the platform's."""

    model_config = ConfigDict(extra="forbid")

    quiet_hours: Annotated[str, Field(max_length=20, examples=["20:00-09:30"])] | None = None
    per_contact_day: Limit = None
    per_contact_month: Limit = None
    human_confirm_over: Limit = None

    def limits(self) -> GuardLimits:
        """As the service takes them."""
        return GuardLimits(
            self.quiet_hours, self.per_contact_day, self.per_contact_month, self.human_confirm_over
        )


class PolicyOut(BaseModel):
    """Limits as the guard applies them."""

    quiet_hours: str
    timezone: str
    per_contact_day: int
    per_contact_month: int
    daily_recipients: int
    human_confirm_over: int

    @classmethod
    def of(cls, policy: GuardPolicy) -> PolicyOut:
        """The body of a policy."""
        return cls(
            quiet_hours=str(policy.quiet_hours),
            timezone=policy.timezone,
            per_contact_day=policy.per_contact_day,
            per_contact_month=policy.per_contact_month,
            daily_recipients=policy.daily_recipients,
            human_confirm_over=policy.human_confirm_over,
        )


class GuardSettingsOut(BaseModel):
    """The shop's own limits, the policy in effect and the platform's ceiling."""

    own: GuardLimitsBody
    effective: PolicyOut
    platform: PolicyOut

    @classmethod
    def of(cls, view: GuardSettingsView) -> GuardSettingsOut:
        """The body of a settings view."""
        own = view.own
        return cls(
            own=GuardLimitsBody(
                quiet_hours=own.quiet_hours,
                per_contact_day=own.per_contact_day,
                per_contact_month=own.per_contact_month,
                human_confirm_over=own.human_confirm_over,
            ),
            effective=PolicyOut.of(view.effective),
            platform=PolicyOut.of(view.platform),
        )


@router.get("/tenants/{slug}/guard/settings")
async def get_guard_settings(tenant: TenantAccess) -> GuardSettingsOut:
    """The shop's own limits, the policy in effect and the platform's limits."""
    return GuardSettingsOut.of(guard_settings_view(tenant))


@router.put(
    "/tenants/{slug}/guard/settings",
    responses={400: {"description": "`invalid_guard`: a limit would loosen the platform's"}},
)
async def put_guard_settings(
    body: GuardLimitsBody, tenant: TenantAccess, principal: CurrentPrincipal, request: Request
) -> GuardSettingsOut:
    """Replace the shop's own limits (audited); each may only tighten the platform's.

    Applying the shop's bundle again replaces them with its ``guard:``.
    """
    container = container_of(request)
    view = await update_guard_settings(
        container.store,
        tenant.slug,
        body.limits(),
        actor=principal.actor,
        now=container.clock.now(),
    )
    return GuardSettingsOut.of(view)
