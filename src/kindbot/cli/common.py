"""Shared CLI plumbing: running coroutines, reporting errors, choosing a tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from kindbot.errors import InputFileError, KindbotError, NotFoundError
from kindbot.records import TenantRecord
from kindbot.types import Transaction

T = TypeVar("T")

out = Console(soft_wrap=True)
err = Console(stderr=True)


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
