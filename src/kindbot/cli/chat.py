"""``kindbot chat``: talk to a tenant's bot in the terminal, through the full pipeline."""

from __future__ import annotations

import asyncio
import getpass
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape

from kindbot.cli.common import open_app, out, pick_tenant, run
from kindbot.core.records.tenancy import TenantStatus

SYNC_GRACE = timedelta(seconds=30)
PROMPT = "you> "


def _read_line(interactive: bool) -> str | None:
    """One line from stdin, or None at end of input."""
    try:
        return input(PROMPT) if interactive else sys.stdin.readline() or None
    except EOFError:
        return None


async def chat_loop(tenant: str | None, user: str) -> None:
    """Read lines until end of input or /quit; print each reply as the bot's."""
    from kindbot.bundles.apply import public_channel_id
    from kindbot.channels import console

    interactive = sys.stdin.isatty()
    async with open_app() as c:
        async with c.store.transaction() as tx:
            found = await pick_tenant(tx, tenant)
        channel_id = public_channel_id(found.slug, console.LOCAL_ID)
        await c.directory.by_public_id(channel_id)
        out.print(
            f"[dim]chatting with {escape(found.name)} ({found.slug}); /quit or Ctrl-D to leave[/]"
        )
        if found.status is TenantStatus.PENDING:
            out.print(
                f"[yellow]{found.slug} is pending: the bot answers only its test contacts "
                "(bundle `test_contacts`, channel console) until a platform admin approves it[/]",
                highlight=False,
            )
        elif found.status is TenantStatus.SUSPENDED:
            out.print(f"[yellow]{found.slug} is suspended: the bot answers nobody[/]")
        while (line := await asyncio.to_thread(_read_line, interactive)) is not None:
            text = line.strip()
            if not text:
                continue
            if text in {"/quit", "/exit"}:
                break
            event = console.to_event(
                text, channel_public_id=channel_id, user=user, now=c.clock.now()
            )
            result = await c.pipeline.feed(event, sync_grace=SYNC_GRACE)
            for reply in result.replies:
                out.print(
                    f"[bold cyan]bot>[/] {escape(reply.text)}", highlight=False, soft_wrap=True
                )
            await c.pipeline.mark_delivered(result)


def chat(
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant slug.")] = None,
    user: Annotated[str | None, typer.Option(help="Who you are to the bot.")] = None,
) -> None:
    """Talk to a tenant's bot in the terminal (stdin lines when not a terminal)."""
    run(chat_loop(tenant, user or f"console:{getpass.getuser()}"))
