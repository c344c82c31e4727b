"""A bundle's ``journeys:`` and the checks every declaration passes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kindbot.bundles.loader import load_bundle
from kindbot.campaigns.journeys import Gate, gate, scheduled_runs
from kindbot.core.errors import BadRequestError, InputFileError
from kindbot.core.journeys import format_delay, journey_definition, parse_delay
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.journeys import (
    JourneyRecord,
    RunStatus,
    TriggerKind,
    TriggerSeen,
)

HEAD = "tenant: {slug: shop, name: Shop, industry: retail}\n"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_journeys_section_loads_into_definitions(tmp_path: Path) -> None:
    bundle = load_bundle(
        write(
            tmp_path,
            HEAD
            + "journeys:\n"
            + "  - {name: tips, trigger: {event: order}, delay: 3d, topic: care, text: 小贴士}\n"
            + "  - {name: hi, trigger: {first_contact: true}, delay: 30m, topic: news, text: Hi}\n"
            + "  - {name: vip, trigger: {tag: vip}, delay: 12h, segment: big-spenders,"
            + " topic: vip, text: VIP}\n",
        )
    )
    tips, hi, vip = (spec.definition() for spec in bundle.journeys)
    assert (tips.trigger, tips.trigger_value, tips.delay_seconds) == (
        TriggerKind.EVENT,
        "order",
        3 * 86_400,
    )
    assert (hi.trigger, hi.trigger_value, hi.delay_seconds) == (
        TriggerKind.FIRST_CONTACT,
        None,
        1800,
    )
    assert (vip.trigger_value, vip.segment) == ("vip", "big-spenders")


@pytest.mark.parametrize(
    ("journey", "expected"),
    [
        ("{name: a, trigger: {event: order, tag: x}, delay: 1d, topic: t, text: x}", "exactly one"),
        ("{name: a, trigger: {}, delay: 1d, topic: t, text: x}", "exactly one"),
        ("{name: a, trigger: {event: order}, delay: 91d, topic: t, text: x}", "at most 90 days"),
        ("{name: a, trigger: {event: order}, delay: soon, topic: t, text: x}", "delay"),
        ("{name: A!, trigger: {event: order}, delay: 1d, topic: t, text: x}", "name"),
    ],
)
def test_a_bad_journey_is_refused_with_its_line(
    tmp_path: Path, journey: str, expected: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        load_bundle(write(tmp_path, HEAD + f"journeys:\n  - {journey}\n"))
    message = str(caught.value)
    assert "shop.yaml, line" in message, message
    assert expected in message, message


def test_journey_names_are_unique_in_a_bundle(tmp_path: Path) -> None:
    one = "{name: a, trigger: {event: order}, delay: 1d, topic: t, text: x}"
    with pytest.raises(InputFileError) as caught:
        load_bundle(write(tmp_path, HEAD + f"journeys:\n  - {one}\n  - {one}\n"))
    assert "unique: a" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"), [("0m", 0), ("30m", 1800), ("12h", 43_200), (" 3d ", 259_200)]
)
def test_delays(text: str, seconds: int) -> None:
    assert parse_delay(text) == seconds
    assert parse_delay(format_delay(seconds)) == seconds


def test_every_problem_of_a_declaration_is_named() -> None:
    with pytest.raises(BadRequestError) as caught:
        journey_definition(
            name="ok",
            trigger=TriggerKind.EVENT,
            trigger_value="Order!",
            delay="1d",
            topic="two words",
            text=" ",
        )
    assert caught.value.code == "invalid_journey"
    assert "trigger" in caught.value.message
    assert "topic" in caught.value.message
    assert "text" in caught.value.message


def _journey(delay_seconds: int, *, enabled: bool = True) -> JourneyRecord:
    definition = journey_definition(
        name="tips",
        trigger=TriggerKind.EVENT,
        trigger_value="order",
        delay=format_delay(delay_seconds),
        topic="care",
        text="x",
    )
    return JourneyRecord("j1", "t1", definition, enabled, T0, T0, T0)


def test_a_run_is_due_after_its_delay_but_never_in_the_past() -> None:
    seen = [TriggerSeen("c1", T0, "event:o1"), TriggerSeen("c2", T0 - timedelta(days=1), "x")]
    runs = scheduled_runs(_journey(3600), seen, T0 + timedelta(minutes=5))
    assert [r.due_at for r in runs] == [T0 + timedelta(hours=1), T0 + timedelta(minutes=5)]
    assert {r.status for r in runs} == {RunStatus.SCHEDULED}


def _contact(**changes: object) -> ContactRecord:
    values: dict[str, object] = {
        "id": "c1",
        "tenant_id": "t1",
        "channel_id": "ch",
        "external_id": "alice",
        "display_name": None,
        "is_test": False,
        "created_at": T0 - timedelta(days=9),
    }
    return ContactRecord(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("journey", "contact", "expected"),
    [
        (_journey(60), _contact(), Gate.PROCEED),
        (_journey(60, enabled=False), _contact(), Gate.WITHDRAWN),
        (None, _contact(), Gate.WITHDRAWN),
        (_journey(60), None, Gate.GONE),
        (_journey(60), _contact(opted_out_at=T0 + timedelta(hours=1)), Gate.OPTED_OUT),
        (_journey(60), _contact(followed=False), Gate.OPTED_OUT),
        # Opted out before the trigger and not back (an opt-in would clear the mark).
        (_journey(60), _contact(opted_out_at=T0 - timedelta(days=1)), Gate.OPTED_OUT),
    ],
)
def test_the_gate_before_the_guard(
    journey: JourneyRecord | None, contact: ContactRecord | None, expected: Gate
) -> None:
    assert gate(journey, contact) is expected
