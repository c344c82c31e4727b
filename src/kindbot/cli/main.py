"""``kindbot`` command line: composes the parts, holds no business logic.

Start-up contract (see :mod:`kindbot.cli.common`): nothing heavy is imported
at module level here or in the command modules; each command imports what it
uses when it runs, so every ``--help`` answers at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kindbot.bundles.tenants import approve_tenant, default_actor
from kindbot.cli import (
    admin,
    agent,
    analytics,
    audit,
    campaign,
    campaigns,
    chat,
    consent,
    contact,
    guard,
    journeys,
    kb,
    moderation,
    segments,
    tenant,
    users,
    wechat_sim,
)
from kindbot.cli.common import open_app, out, run
from kindbot.core.records.tenancy import TenantStatus
from kindbot.settings import Settings

if TYPE_CHECKING:
    from kindbot.bundles.apply import ApplyReport

app = typer.Typer(
    rich_markup_mode=None,
    help="kindbot: chatbots that serve customers on official messaging channels, never spam.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kb.app, name="kb")
app.add_typer(audit.app, name="audit")
app.add_typer(tenant.app, name="tenant")
app.add_typer(wechat_sim.app, name="wechat-sim")
app.add_typer(guard.guard_app, name="guard", no_args_is_help=True)
app.add_typer(campaigns.broadcast_app, name="broadcast", no_args_is_help=True)
app.add_typer(campaigns.tag_app, name="tag", no_args_is_help=True)
app.add_typer(campaign.campaign_app, name="campaign", no_args_is_help=True)
app.add_typer(admin.app, name="admin")
app.add_typer(consent.app, name="consent")
app.add_typer(contact.app, name="contact")
app.add_typer(moderation.app, name="moderation")
app.add_typer(agent.app, name="agent")
app.add_typer(users.app, name="user")
app.add_typer(analytics.events_app, name="events")
app.add_typer(journeys.app, name="journey")
app.command()(analytics.metrics)
app.add_typer(segments.app, name="segment")
app.command()(chat.chat)
app.command()(moderation.moderate)
app.command()(campaigns.send)


@app.command()
def migrate() -> None:
    """Apply database migrations (KINDBOT_DATABASE_URL, default SQLite in the data dir)."""
    from kindbot.storage import migrate as migrations

    async def go() -> str | None:
        async with open_app() as c:
            return await migrations.current_revision(c.store.engine)

    out.print(f"database at revision {run(go())}")


def _print_report(applied: tuple[ApplyReport, int]) -> None:
    report, encoded = applied
    state = "created" if report.tenant_created else "updated"
    if not report.tenant_changed:
        state = "unchanged"
    out.print(f"tenant {report.tenant_slug}: {state}")
    if report.tenant_status is TenantStatus.PENDING:
        out.print(
            f"  status: pending — it may message only its test contacts until a platform "
            f"admin approves it (kindbot tenant approve {report.tenant_slug} --reason TEXT)",
            highlight=False,
        )
    elif report.tenant_status is TenantStatus.SUSPENDED:
        out.print("  status: suspended — it sends nothing until a platform admin reinstates it")
    for label, ids in [
        ("created", report.channels_created),
        ("updated", report.channels_updated),
        ("unchanged", report.channels_unchanged),
    ]:
        if ids:
            out.print(f"  channels {label}: {', '.join(ids)}")
    out.print(
        f"  knowledge: {report.kb_created} created, {report.kb_updated} updated, "
        f"{report.kb_unchanged} unchanged"
    )
    if report.test_contacts_marked or report.test_contacts_unmarked:
        out.print(
            f"  test contacts: {report.test_contacts_marked} marked, "
            f"{report.test_contacts_unmarked} unmarked"
        )
    if report.flows_changed:
        out.print("  flows: updated")
    synced = report.attributes
    if synced is not None and (synced.added or synced.changed or synced.removed):
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (
                ("added", synced.added),
                ("changed", synced.changed),
                ("removed", synced.removed),
            )
            if names
        ]
        out.print(f"  attributes: {'; '.join(parts)}", highlight=False)
    if synced is not None and synced.values_removed:
        out.print(
            f"  attribute values deleted: {synced.values_removed} (attribute removed or retyped)",
            highlight=False,
        )
    if encoded:
        out.print(f"  sentence vectors: {encoded} texts encoded and stored")


async def _apply(path: Path) -> tuple[ApplyReport, int]:
    """Apply the bundle at ``path``; its report and how many knowledge texts were encoded."""
    from kindbot.bundles.apply import apply_prepared, prepare_bundle
    from kindbot.bundles.prohibited import load_prohibited_industries
    from kindbot.core.egress import AddressPolicy

    settings = Settings.from_env()
    prohibited = load_prohibited_industries(settings.prohibited_industries_file)
    prepared = prepare_bundle(path)  # validate every file before touching the data dir
    async with open_app(settings) as c:
        report = await apply_prepared(
            c.store,
            c.box,
            prepared,
            c.clock.now(),
            prohibited=prohibited,
            addresses=AddressPolicy(settings.allow_private_endpoints),
        )
        if not (report.kb_created or report.kb_updated):
            return report, 0
        async with c.store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get_by_slug(report.tenant_slug)
        # Encode the new texts here, once, so no server has to (the vectors are stored).
        return report, await c.knowledge.encode_ahead(tenant.id) if tenant else 0


async def _approve_demo(slug: str) -> None:
    """The operator runs the demo, so the demo shop is approved (audited) on first setup."""
    async with open_app() as c:
        async with c.store.transaction(readonly=True) as tx:
            found = await tx.tenants.get_by_slug(slug)
        if found is not None and found.status is TenantStatus.PENDING:
            await approve_tenant(
                c.store, slug, reason="demo", actor=default_actor(), now=c.clock.now()
            )
            out.print(f"tenant {slug}: approved for the demo (audited)")


@app.command()
def apply(bundle: Annotated[Path, typer.Argument(help="Bundle YAML file.")]) -> None:
    """Create or update a tenant from BUNDLE in one transaction (idempotent)."""
    _print_report(run(_apply(bundle)))


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.", min=1)] = 1,
) -> None:
    """Serve channel callbacks, the web chat and the health endpoints."""
    import uvicorn  # the web stack: only for the commands that serve

    from kindbot.web.app import build_app

    _configure_logging()
    if workers > 1:
        uvicorn.run(
            "kindbot.web.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    else:
        uvicorn.run(
            build_app(), host=host, port=port, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S
        )


@app.command()
def worker() -> None:
    """Run the outbox and recovery workers until interrupted."""
    _configure_logging()

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with open_app(auto_migrate=False, workers=True):
            out.print("worker running; Ctrl-C to stop")
            await stop.wait()

    run(go())


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its data.")] = Path(
        "kindbot-demo"
    ),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Set up the demo shop (山间茶舍) in DATA_DIR on SQLite, then serve it.

    Besides web chat, a webhook and the terminal, the shop gets a simulated
    WeChat Official Account: kindbot serves a local stand-in for WeChat's
    servers at /wechat-sim, and `kindbot wechat-sim chat` plays a follower.
    A fresh DATA_DIR also gets the shop's last 12 weeks of (generated) history:
    contacts, conversations, hand-offs, orders, so the dashboard shows real figures.
    """
    from kindbot import demo as demo_files

    os.environ["KINDBOT_DATA_DIR"] = str(data_dir)
    os.environ["KINDBOT_ALLOW_PRIVATE_ENDPOINTS"] = "1"  # the simulator is on this host
    os.environ.pop("KINDBOT_DATABASE_URL", None)
    base = f"http://{host}:{port}"
    bundle = resources.files("kindbot.demo").joinpath("bundle.yaml")
    fresh = not data_dir.exists() or not any(data_dir.iterdir())
    with resources.as_file(bundle) as path:
        _print_report(run(_apply(path)))
    run(_approve_demo(demo_files.DEMO_TENANT))
    data_dir.mkdir(parents=True, exist_ok=True)
    oa_bundle = data_dir / "demo-wechat.yaml"
    oa_bundle.write_text(demo_files.oa_bundle(base + demo_files.SIM_MOUNT), encoding="utf-8")
    _print_report(run(_apply(oa_bundle)))
    me = f"KINDBOT_DATA_DIR={data_dir} {_own_command()}"
    tenant = demo_files.DEMO_TENANT
    logins = run(_demo_logins(tenant))
    if fresh:
        out.print(_seed_demo_history(tenant), highlight=False)
    out.print(f"\n[bold]web chat:[/]        {base}/chat/{tenant}.web", highlight=False)
    out.print(f"[bold]terminal:[/]        {me} chat --tenant {tenant}", highlight=False)
    out.print(f"[bold]WeChat (simulated):[/] {me} wechat-sim chat --server {base}", highlight=False)
    out.print(f"[bold]webhook:[/]         POST {base}/channels/{tenant}.hook/callback")
    out.print(f"[bold]health:[/]          {base}/healthz")
    out.print(
        f"[bold]dashboard:[/]       {base}/dashboard  (password for every demo login: "
        f"{DEMO_PASSWORD})",
        highlight=False,
    )
    for email, role in logins:
        out.print(f"    {role:<15} {email}", highlight=False)
    out.print("")
    _serve_demo(host, port)


GRACEFUL_SHUTDOWN_S = 10
"""On shutdown, requests in flight get this long; open event streams (the inbox's) are
then closed, so a stop or a rolling restart never waits for them forever."""

DEMO_PASSWORD = "kindbot-demo"
"""The demo's dashboard logins share this password (a local demo shop only)."""


async def _demo_logins(slug: str) -> list[tuple[str, str]]:
    """A dashboard login per role for the demo shop (created once; reruns keep them)."""
    from kindbot.core.records.accounts import Role
    from kindbot.ops.accounts import add_user, grant_role

    logins = [
        ("admin@kindbot.demo", "platform admin", None),
        (f"owner@{slug}.demo", "tenant admin", Role.TENANT_ADMIN),
        (f"agent@{slug}.demo", "agent", Role.AGENT),
        (f"viewer@{slug}.demo", "viewer", Role.VIEWER),
    ]
    async with open_app() as c:
        now = c.clock.now()
        async with c.store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get_by_slug(slug)
            known = {u.email for u in await tx.accounts.all_users()}
        assert tenant is not None
        for email, _, role in logins:
            if email in known:
                continue
            await add_user(
                c.store,
                email=email,
                name=email.split("@")[0],
                password=DEMO_PASSWORD,
                platform_admin=role is None,
                now=now,
            )
            if role is not None:
                await grant_role(
                    c.store, email=email, tenant=tenant, role=role, actor="demo", now=now
                )
    return [(email, label) for email, label, _ in logins]


def _seed_demo_history(slug: str) -> str:
    """Store the demo shop's ~12 weeks of history ending now, once; one line saying what.

    Shown as a progress bar on a terminal (stderr). A shop with business events
    already is left as it is (:func:`kindbot.demo.seeding.seed_history`).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from kindbot.bootstrap import SystemClock
    from kindbot.cli.common import err
    from kindbot.demo.seeding import history_for, history_size, seed_history

    history = history_for(SystemClock().now())
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns, TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal
    ) as bar:
        task = bar.add_task("demo history", total=history_size(history))
        report = run(
            seed_history(
                Settings.from_env(), slug, history, progress=lambda n: bar.advance(task, n)
            )
        )
    if report is None:
        return f"{slug}: has business events already; its history is kept as it is"
    return report.summary()


def _serve_demo(host: str, port: int) -> None:
    """Serve the demo shop with a stand-in for WeChat's servers mounted at ``SIM_MOUNT``."""
    import uvicorn

    from kindbot import demo as demo_files
    from kindbot.testing.wechat_api import WeChatSimulator
    from kindbot.web.app import ExtraMount, build_app

    simulator = WeChatSimulator()
    simulator.add_oa_app(demo_files.OA_APP_ID, demo_files.OA_APP_SECRET)
    mount = ExtraMount(demo_files.SIM_MOUNT, simulator.app, "wechat-sim", simulator.aclose)
    _configure_logging()
    uvicorn.run(
        build_app(mounts=(mount,)),
        host=host,
        port=port,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


def _own_command() -> str:
    """How this kindbot was started, so printed hints work without activating the venv."""
    launched = Path(sys.argv[0])
    return str(launched) if launched.name == "kindbot" else f"{sys.executable} -m kindbot"


def main() -> None:
    """Console-script entry point."""
    app()
