"""``kindbot admin``: the platform admin's credentials."""

from __future__ import annotations

import typer

from kindbot.cli.common import out, run
from kindbot.settings import Settings

app = typer.Typer(
    rich_markup_mode=None,
    help="The platform admin's credentials for the REST API.",
    no_args_is_help=True,
)


@app.command()
def token() -> None:
    """Print the admin's API token (KINDBOT_ADMIN_TOKEN, else generated into the data dir).

    Send it as 'Authorization: Bearer TOKEN' to /api/v1.
    """

    from kindbot.bootstrap import build_container

    async def go() -> str:
        container = build_container(Settings.from_env())
        try:
            return container.admin_token
        finally:
            await container.aclose()

    out.print(run(go()), highlight=False, soft_wrap=True)
