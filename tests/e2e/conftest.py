"""End-to-end tests on the real composition root run on every storage backend."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def container_backend(request: pytest.FixtureRequest) -> str:
    """Each end-to-end test that uses `container` runs on SQLite and on PostgreSQL."""
    return str(request.param)
