"""``kindbot agent``: a tenant's agents for human handoff (add, list, online, offline)."""

from __future__ import annotations

from typing import Annotated

import typer

from kindbot.cli.common import open_app, out, run
from kindbot.cli.contact_options import TenantOption, load_tenant
from kindbot.core.records.handoff import AgentRecord

app = typer.Typer(
    rich_markup_mode=None,
    help="Agents who answer handed-off conversations (round-robin among online ones).",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The agent's name (or id).")]


def _line(agent: AgentRecord) -> str:
    state = "online" if agent.online else "offline"
    assigned = agent.last_assigned_at.isoformat() if agent.last_assigned_at else "-"
    return f"{agent.id}  {agent.name}  {state}  last assigned {assigned}"


@app.command()
def add(name: NameArgument, tenant: TenantOption = None) -> None:
    """Add an agent (offline until `kindbot agent online`)."""

    async def go() -> AgentRecord:
        async with open_app() as c:
            return await c.inbox.add_agent(await load_tenant(c.store, tenant), name)

    out.print(_line(run(go())), highlight=False)


@app.command("list")
def list_agents(tenant: TenantOption = None) -> None:
    """List the tenant's agents, oldest first."""

    async def go() -> list[AgentRecord]:
        async with open_app() as c:
            return await c.inbox.agents(await load_tenant(c.store, tenant))

    for agent in run(go()):
        out.print(_line(agent), highlight=False)


def _set(name: str, tenant: str | None, online: bool) -> None:
    async def go() -> AgentRecord:
        async with open_app() as c:
            return await c.inbox.set_online(await load_tenant(c.store, tenant), name, online)

    out.print(_line(run(go())), highlight=False)


@app.command()
def online(name: NameArgument, tenant: TenantOption = None) -> None:
    """Mark the agent online: it takes round-robin assignments."""
    _set(name, tenant, True)


@app.command()
def offline(name: NameArgument, tenant: TenantOption = None) -> None:
    """Mark the agent offline: it takes no more assignments."""
    _set(name, tenant, False)
