"""``KINDBOT_SERVE_WORKERS``: whether ``kindbot serve`` runs the workers itself."""

from __future__ import annotations

import pytest

from kindbot.settings import Settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", True), ("1", True), ("on", True), ("TRUE", True), ("0", False), (" off ", False)],
)
def test_serve_workers_is_on_unless_switched_off(raw: str, expected: bool) -> None:
    assert Settings.from_env({"KINDBOT_SERVE_WORKERS": raw}).run_workers_in_process is expected
    assert Settings.from_env({}).run_workers_in_process is True


@pytest.mark.parametrize("raw", ["2", "maybe", "offf"])
def test_anything_else_is_refused_with_the_variable_named(raw: str) -> None:
    with pytest.raises(ValueError, match="KINDBOT_SERVE_WORKERS must be 1 or 0"):
        Settings.from_env({"KINDBOT_SERVE_WORKERS": raw})
