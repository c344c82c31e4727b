"""Pipeline tests run on every storage backend (DESIGN.md §7: the same suite on both)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def container_backend(request: pytest.FixtureRequest) -> str:
    """Each pipeline test runs on SQLite and on PostgreSQL."""
    return str(request.param)
