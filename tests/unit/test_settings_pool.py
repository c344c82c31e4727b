"""``KINDBOT_DATABASE_POOL_SIZE`` and ``KINDBOT_DATABASE_POOL_TIMEOUT_S``: PostgreSQL's pool."""

from __future__ import annotations

import pytest

from kindbot.settings import Settings


def test_the_pool_defaults_and_is_read_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.database_pool_size, default.database_pool_timeout_s) == (10, 30.0)
    tuned = Settings.from_env(
        {"KINDBOT_DATABASE_POOL_SIZE": "4", "KINDBOT_DATABASE_POOL_TIMEOUT_S": "2.5"}
    )
    assert (tuned.database_pool_size, tuned.database_pool_timeout_s) == (4, 2.5)


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "many"])
def test_a_bad_pool_size_names_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="KINDBOT_DATABASE_POOL_SIZE"):
        Settings.from_env({"KINDBOT_DATABASE_POOL_SIZE": raw})


def test_a_bad_pool_timeout_names_the_variable() -> None:
    with pytest.raises(ValueError, match="KINDBOT_DATABASE_POOL_TIMEOUT_S"):
        Settings.from_env({"KINDBOT_DATABASE_POOL_TIMEOUT_S": "0"})
