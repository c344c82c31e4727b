"""``kindbot user``: dashboard accounts (add, grant a role in a shop, revoke, list)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kindbot.bundles.tenants import default_actor
from kindbot.cli.common import fail, open_app, out, pick_tenant, run
from kindbot.core.records.accounts import Membership, Role, UserRecord

app = typer.Typer(
    rich_markup_mode=None,
    help="People who sign in to the dashboard, and their role in each shop.",
    no_args_is_help=True,
)

EmailArgument = Annotated[str, typer.Argument(help="The user's email (their sign-in name).")]
TenantOption = Annotated[str | None, typer.Option("--tenant", help="The shop's slug.")]
RoleOption = Annotated[
    Role | None,
    typer.Option(help="Their role in --tenant: tenant_admin, agent or viewer."),
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask the password on: pass --password-stdin and pipe it in")
    first = typer.prompt("password (at least 10 characters)", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        fail("the two passwords differ; nothing was changed")
    return str(first)


@app.command()
def add(
    email: EmailArgument,
    name: Annotated[str, typer.Option(help="Their name as shown in the dashboard.")] = "",
    tenant: TenantOption = None,
    role: RoleOption = None,
    platform_admin: Annotated[
        bool, typer.Option("--platform-admin", help="The operator: vets and suspends shops.")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
) -> None:
    """Create a dashboard user (asks the password), optionally with a role in a shop."""
    from kindbot.ops.accounts import add_user, grant_role

    if (tenant is None) != (role is None):
        fail("--tenant and --role go together (a role is always in one shop)")
    password = _read_password(password_stdin)

    async def go() -> tuple[UserRecord, Membership | None]:
        async with open_app() as c:
            now = c.clock.now()
            if tenant is not None:  # the shop must exist before the user is created
                async with c.store.transaction(readonly=True) as tx:
                    shop = await pick_tenant(tx, tenant)
            user = await add_user(
                c.store,
                email=email,
                name=name,
                password=password,
                platform_admin=platform_admin,
                now=now,
            )
            if tenant is None or role is None:
                return user, None
            membership = await grant_role(
                c.store, email=user.email, tenant=shop, role=role, actor=default_actor(), now=now
            )
            return user, membership

    user, membership = run(go())
    where = f", {membership.role.value} of {tenant}" if membership else ""
    admin = ", platform admin" if user.platform_admin else ""
    out.print(f"user {user.email} (id {user.id}){admin}{where}", highlight=False)


@app.command()
def grant(email: EmailArgument, tenant: TenantOption = None, role: RoleOption = None) -> None:
    """Give the user a role in a shop (replacing their earlier role there)."""
    from kindbot.ops.accounts import grant_role

    if role is None:
        fail("--role is required: tenant_admin, agent or viewer")

    async def go() -> Membership:
        async with open_app() as c:
            async with c.store.transaction(readonly=True) as tx:
                shop = await pick_tenant(tx, tenant)
            return await grant_role(
                c.store,
                email=email,
                tenant=shop,
                role=role,
                actor=default_actor(),
                now=c.clock.now(),
            )

    membership = run(go())
    out.print(f"{email}: {membership.role.value} of {tenant or 'the shop'}", highlight=False)


@app.command()
def revoke(email: EmailArgument, tenant: TenantOption = None) -> None:
    """End the user's membership of a shop (their sessions there end with it)."""
    from kindbot.ops.accounts import revoke_role

    async def go() -> bool:
        async with open_app() as c:
            async with c.store.transaction(readonly=True) as tx:
                shop = await pick_tenant(tx, tenant)
            return await revoke_role(
                c.store, email=email, tenant=shop, actor=default_actor(), now=c.clock.now()
            )

    if not run(go()):
        fail(f"{email} is not a member of {tenant or 'the shop'}")
    out.print(f"{email} is no longer a member of {tenant or 'the shop'}", highlight=False)


@app.command("list")
def list_users() -> None:
    """Every dashboard user with their shops and roles."""

    async def go() -> list[tuple[UserRecord, list[tuple[str, Role]]]]:
        async with open_app() as c, c.store.transaction(readonly=True) as tx:
            slugs = {t.id: t.slug for t in await tx.tenants.list()}
            found = []
            for user in await tx.accounts.all_users():
                roles = [
                    (slugs.get(m.tenant_id, m.tenant_id), m.role)
                    for m in await tx.accounts.memberships_of(user.id)
                ]
                found.append((user, roles))
            return found

    users = run(go())
    if not users:
        out.print("no dashboard users yet (kindbot user add EMAIL)")
    for user, roles in users:
        shops = ", ".join(f"{slug}:{role.value}" for slug, role in roles) or "-"
        admin = " platform-admin" if user.platform_admin else ""
        out.print(f"{user.email}  {user.name}{admin}  {shops}", highlight=False)
