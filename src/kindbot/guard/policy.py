"""A tenant's guard settings, clamped to the platform's limits (DESIGN.md §5).

A tenant may tighten any default, never loosen it past the platform: quiet
hours can only grow, caps can only shrink. :func:`tenant_policy` is the one
place that enforces that; everything else reads a :class:`GuardPolicy`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, replace
from datetime import time

from kindbot.core.errors import BadRequestError

DEFAULT_TIMEZONE = "Asia/Shanghai"

TIER_QUOTAS: tuple[int, ...] = (250, 2_000, 10_000, 100_000)
"""Daily unique proactive recipients per tenant by trust tier (0 … 3)."""

THROTTLE_DIVISOR = 4
"""A throttled tenant's quotas are cut to a quarter."""


@dataclass(frozen=True, slots=True)
class QuietHours:
    """No proactive messages from ``start`` to ``end`` local time (may span midnight)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """True when ``moment`` (local wall-clock time) falls inside the quiet hours."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def minutes(self) -> int:
        """Length in minutes (0 … 1439)."""
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return (end - start) % (24 * 60)

    def covers(self, other: QuietHours) -> bool:
        """True when every minute of ``other`` is also quiet here."""
        return _quiet_minutes(other) <= _quiet_minutes(self)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _quiet_minutes(quiet: QuietHours) -> frozenset[int]:
    start = quiet.start.hour * 60 + quiet.start.minute
    return frozenset((start + offset) % (24 * 60) for offset in range(quiet.minutes()))


PLATFORM_QUIET_HOURS = QuietHours(time(21, 0), time(9, 0))

_QUIET_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_hours(text: str) -> QuietHours:
    """``"21:00-09:00"`` → :class:`QuietHours`; :class:`BadRequestError` otherwise."""
    match = _QUIET_PATTERN.match(text)
    if match is None:
        raise BadRequestError(f"quiet hours {text!r}: expected HH:MM-HH:MM", code="invalid_guard")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise BadRequestError(f"quiet hours {text!r}: not a time of day", code="invalid_guard")
    return QuietHours(time(h1, m1), time(h2, m2))


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """The limits the rules apply to one tenant.

    ``per_contact_day`` / ``per_contact_month``: proactive messages per contact
    across all topics; ``daily_recipients``: the tenant's daily quota of
    proactive recipients (its trust tier, cut when throttled);
    ``channel_per_second``: proactive sends per channel per second (below the
    platform's API limits); ``group_per_hour``: bot messages per group per hour;
    ``human_confirm_over``: broadcasts to more recipients need a second person.
    """

    quiet_hours: QuietHours = PLATFORM_QUIET_HOURS
    timezone: str = DEFAULT_TIMEZONE
    per_contact_day: int = 1
    per_contact_month: int = 4
    daily_recipients: int = TIER_QUOTAS[0]
    channel_per_second: int = 20
    group_per_hour: int = 20
    human_confirm_over: int = 1_000

    def throttled(self) -> GuardPolicy:
        """The same policy with the tenant's quota cut (violation threshold ``throttle``)."""
        return replace(self, daily_recipients=max(1, self.daily_recipients // THROTTLE_DIVISOR))


PLATFORM_POLICY = GuardPolicy()


@dataclass(frozen=True, slots=True)
class TenantGuardSettings:
    """What a tenant asked for in its bundle (``guard:``); None keeps the default."""

    quiet_hours: str | None = None
    per_contact_day: int | None = None
    per_contact_month: int | None = None
    human_confirm_over: int | None = None
    trust_tier: int = 0
    """Set by the operator (never by the tenant's bundle): picks the daily quota."""


def tenant_policy(
    settings: TenantGuardSettings, *, timezone: str, throttled: bool = False
) -> GuardPolicy:
    """The tenant's effective policy: its settings where stricter, the platform's elsewhere.

    Raises :class:`BadRequestError` (``invalid_guard``) when a setting would
    loosen a platform limit, so a bundle cannot silently ask for more.
    """
    policy = replace(PLATFORM_POLICY, timezone=timezone or DEFAULT_TIMEZONE)
    if settings.quiet_hours is not None:
        quiet = parse_quiet_hours(settings.quiet_hours)
        if not quiet.covers(PLATFORM_QUIET_HOURS):
            raise BadRequestError(
                f"quiet hours {quiet} must include the platform's {PLATFORM_QUIET_HOURS}",
                code="invalid_guard",
            )
        policy = replace(policy, quiet_hours=quiet)
    policy = replace(
        policy,
        per_contact_day=_tighter(
            "per_contact_day", settings.per_contact_day, policy.per_contact_day
        ),
        per_contact_month=_tighter(
            "per_contact_month", settings.per_contact_month, policy.per_contact_month
        ),
        human_confirm_over=_tighter(
            "human_confirm_over", settings.human_confirm_over, policy.human_confirm_over
        ),
        daily_recipients=TIER_QUOTAS[min(max(settings.trust_tier, 0), len(TIER_QUOTAS) - 1)],
    )
    return policy.throttled() if throttled else policy


def _tighter(name: str, asked: int | None, limit: int) -> int:
    if asked is None:
        return limit
    if asked < 0 or asked > limit:
        raise BadRequestError(
            f"{name} = {asked}: must be between 0 and the platform's {limit}", code="invalid_guard"
        )
    return asked


def settings_from_json(guard_json: str | None) -> TenantGuardSettings:
    """The stored ``guard:`` settings (JSON written by bundle apply) as a value."""
    if not guard_json:
        return TenantGuardSettings()
    raw = json.loads(guard_json)
    return TenantGuardSettings(
        quiet_hours=raw.get("quiet_hours"),
        per_contact_day=raw.get("per_contact_day"),
        per_contact_month=raw.get("per_contact_month"),
        human_confirm_over=raw.get("human_confirm_over"),
        trust_tier=int(raw.get("trust_tier", 0)),
    )


def settings_to_json(settings: TenantGuardSettings) -> str:
    """The stored form of ``settings`` (read back by :func:`settings_from_json`)."""
    return json.dumps(
        {
            "quiet_hours": settings.quiet_hours,
            "per_contact_day": settings.per_contact_day,
            "per_contact_month": settings.per_contact_month,
            "human_confirm_over": settings.human_confirm_over,
            "trust_tier": settings.trust_tier,
        },
        sort_keys=True,
    )


@functools.lru_cache(maxsize=1024)
def stored_policy(guard_json: str | None, timezone: str, throttled: bool) -> GuardPolicy:
    """The effective policy of a stored tenant (memoised: tenants rarely change)."""
    return tenant_policy(settings_from_json(guard_json), timezone=timezone, throttled=throttled)
