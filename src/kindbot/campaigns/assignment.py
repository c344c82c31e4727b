"""Who is held out and who gets which variant: pure and deterministic.

Both choices rank the audience by a SHA-256 of the campaign's id and the
contact's id, so the same campaign over the same audience always selects the
same people (re-planning changes nothing), no one can pick who is held out,
and the choice is recorded per recipient before anything is sent.

- **Holdout**: the ``round(n × share)`` contacts with the smallest hash (an
  exact share, not a coin per contact, so a small audience still gets the
  holdout it asked for).
- **Variant**: the treatment contacts, ranked by a second hash, are dealt to
  the variants in proportion to their weights (largest remainder), so the
  split is as exact as whole contacts allow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from fractions import Fraction

from kindbot.core.records.campaigns import Arm, NewRecipient, RecipientStatus, Variant

MAX_HOLDOUT_SHARE = 0.5
DEFAULT_HOLDOUT_SHARE = 0.10


def rank_key(campaign_id: str, contact_id: str, purpose: str) -> bytes:
    """The contact's place in the campaign's random order for ``purpose``."""
    return hashlib.sha256(f"{purpose}\x00{campaign_id}\x00{contact_id}".encode()).digest()


def holdout_size(audience: int, share: float) -> int:
    """How many of ``audience`` contacts are held out: ``share`` of them, rounded half up."""
    exact = Fraction(audience) * Fraction(share).limit_denominator(10_000)
    return int(exact + Fraction(1, 2))


def variant_counts(treatment: int, variants: Sequence[Variant]) -> list[int]:
    """Contacts per variant: ``treatment`` split by weight, remainders to the largest
    fractions (ties to the earlier variant)."""
    total = sum(v.weight for v in variants)
    exact = [Fraction(treatment * v.weight, total) for v in variants]
    counts = [int(x) for x in exact]
    left = treatment - sum(counts)
    order = sorted(range(len(variants)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:left]:
        counts[i] += 1
    return counts


def assign(
    campaign_id: str, contact_ids: Sequence[str], share: float, variants: Sequence[Variant]
) -> list[NewRecipient]:
    """Every contact's arm and variant, in the order of ``contact_ids``.

    Duplicates in ``contact_ids`` count once. Holdout recipients have no
    variant and the status ``holdout``; treatment recipients are ``planned``.
    """
    unique = list(dict.fromkeys(contact_ids))
    by_holdout_rank = sorted(unique, key=lambda c: rank_key(campaign_id, c, "holdout"))
    held = set(by_holdout_rank[: holdout_size(len(unique), share)])
    treated = [c for c in unique if c not in held]
    by_variant_rank = sorted(treated, key=lambda c: rank_key(campaign_id, c, "variant"))
    variant_of: dict[str, str] = {}
    position = 0
    for variant, count in zip(variants, variant_counts(len(treated), variants), strict=True):
        for contact_id in by_variant_rank[position : position + count]:
            variant_of[contact_id] = variant.name
        position += count
    return [
        NewRecipient(c, Arm.HOLDOUT, None, RecipientStatus.HOLDOUT)
        if c in held
        else NewRecipient(c, Arm.TREATMENT, variant_of[c], RecipientStatus.PLANNED)
        for c in unique
    ]
