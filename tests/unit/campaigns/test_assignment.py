"""Holdout and variant assignment: exact sizes, deterministic, independent of order."""

from __future__ import annotations

import pytest

from kindbot.campaigns.assignment import assign, holdout_size, variant_counts
from kindbot.core.records.campaigns import Arm, RecipientStatus, Variant

AB = (Variant("A", "a"), Variant("B", "b"))
PEOPLE = [f"contact-{i:03d}" for i in range(100)]


@pytest.mark.parametrize(
    ("audience", "share", "held"),
    [(10, 0.2, 2), (10, 0.1, 1), (5, 0.1, 1), (4, 0.1, 0), (0, 0.1, 0), (7, 0.5, 4), (100, 0.0, 0)],
)
def test_holdout_size(audience: int, share: float, held: int) -> None:
    assert holdout_size(audience, share) == held


@pytest.mark.parametrize(
    ("treatment", "weights", "counts"),
    [(8, (1, 1), [4, 4]), (7, (1, 1), [4, 3]), (10, (2, 1), [7, 3]), (5, (1, 1, 1), [2, 2, 1])],
)
def test_variant_counts(treatment: int, weights: tuple[int, ...], counts: list[int]) -> None:
    variants = [Variant(str(i), "t", w) for i, w in enumerate(weights)]
    assert variant_counts(treatment, variants) == counts


def test_assignment_is_exact_and_deterministic() -> None:
    first = assign("campaign-1", PEOPLE, 0.1, AB)
    again = assign("campaign-1", list(reversed(PEOPLE)), 0.1, AB)

    held = {r.contact_id for r in first if r.arm is Arm.HOLDOUT}
    assert len(held) == 10
    assert held == {r.contact_id for r in again if r.arm is Arm.HOLDOUT}
    assert {(r.contact_id, r.variant) for r in first} == {(r.contact_id, r.variant) for r in again}
    assert [r.contact_id for r in first] == PEOPLE  # the input's order
    treated = [r for r in first if r.arm is Arm.TREATMENT]
    assert sorted(r.variant or "" for r in treated) == ["A"] * 45 + ["B"] * 45
    assert all(r.status is RecipientStatus.PLANNED for r in treated)
    assert all(
        r.status is RecipientStatus.HOLDOUT and r.variant is None
        for r in first
        if r.contact_id in held
    )


def test_another_campaign_holds_out_other_people() -> None:
    one = {r.contact_id for r in assign("campaign-1", PEOPLE, 0.1, AB) if r.arm is Arm.HOLDOUT}
    two = {r.contact_id for r in assign("campaign-2", PEOPLE, 0.1, AB) if r.arm is Arm.HOLDOUT}
    assert one != two


def test_duplicates_count_once() -> None:
    recipients = assign("c", ["x", "y", "x"], 0.0, AB)
    assert [r.contact_id for r in recipients] == ["x", "y"]
