"""A recorded violation: one weighed denial counted into a tenant's standing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ViolationRecord:
    """A denial with its severity and weight; ``forgiven`` once a reinstatement cleared it."""

    at: datetime
    rule: str
    severity: str
    weight: int
    subject: str
    forgiven: bool
