"""``KINDBOT_RECOVERY_AFTER_S``: how long a message may stay unprocessed before recovery."""

from __future__ import annotations

import pytest

from kindbot.settings import Settings


def test_the_recovery_delay_defaults_to_a_minute_and_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).recovery_after_s == 60.0
    assert Settings.from_env({"KINDBOT_RECOVERY_AFTER_S": "8"}).recovery_after_s == 8.0


@pytest.mark.parametrize("raw", ["0", "-5", "soon", "nan"])
def test_a_bad_recovery_delay_names_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="KINDBOT_RECOVERY_AFTER_S"):
        Settings.from_env({"KINDBOT_RECOVERY_AFTER_S": raw})
