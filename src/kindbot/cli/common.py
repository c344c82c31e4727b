"""Shared CLI plumbing: opening the application, running coroutines, reporting errors.

Start-up contract: this package's modules import only typer, rich and kindbot's
light modules (records, errors, settings …) at top level, so ``kindbot --help``
and every ``--help`` under it start fast; the composition root (database,
retrieval, web stack) is imported by :func:`open_app`, when a command runs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from kindbot.core.errors import InputFileError, KindbotError, NotFoundError
from kindbot.core.ports.seams import Transaction
from kindbot.core.records.tenancy import TenantRecord
from kindbot.settings import Settings

if TYPE_CHECKING:
    from kindbot.bootstrap import Container

T = TypeVar("T")

out = Console(soft_wrap=True, emoji=False)  # texts are data: ":o:" stays ":o:"
err = Console(stderr=True, emoji=False)


def open_app(
    settings: Settings | None = None, *, auto_migrate: bool = True, workers: bool = False
) -> AbstractAsyncContextManager[Container]:
    """The composed application for one command (settings from the environment by default).

    The composition root is imported here rather than at module level: it pulls in
    the database, retrieval and web libraries, which ``--help`` never needs.
    """
    from kindbot.bootstrap import open_container

    return open_container(
        settings or Settings.from_env(), auto_migrate=auto_migrate, workers=workers
    )


def print_json(value: object) -> None:
    """Write ``value`` as indented JSON to stdout, verbatim.

    Machine-readable output never goes through rich: its markup (``[bold]``),
    emoji codes (``:o:``) and highlighting would rewrite the data.
    """
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` (plain text, never markup; not wrapped) to stderr and exit non-zero."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; kindbot errors become a message and exit status 1."""
    try:
        return asyncio.run(coro)
    except InputFileError as exc:
        fail("nothing was applied:\n" + "\n".join(f"  {p}" for p in exc.problems))
    except KindbotError as exc:
        fail(exc.message)


async def pick_tenant(tx: Transaction, slug: str | None) -> TenantRecord:
    """The tenant named ``slug``, or the only tenant when ``slug`` is None."""
    if slug is not None:
        tenant = await tx.tenants.get_by_slug(slug)
        if tenant is None:
            raise NotFoundError(f"no tenant {slug!r}; apply a bundle first (kindbot apply FILE)")
        return tenant
    tenants = await tx.tenants.list()
    if len(tenants) == 1:
        return tenants[0]
    if not tenants:
        raise NotFoundError("no tenants yet; apply a bundle first (kindbot apply FILE)")
    names = ", ".join(t.slug for t in tenants)
    raise NotFoundError(f"several tenants exist ({names}); choose one with --tenant")
