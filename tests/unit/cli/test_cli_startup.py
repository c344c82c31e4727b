"""The CLI starts without the heavy libraries (issue 13, defect 10).

``kindbot --help`` and every ``--help`` under it must not import the database,
retrieval or web stacks: they are imported by the commands that run. Timing is
measured by ``bench/cli_startup.py``; this test checks the behaviour behind it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Not pydantic: typer itself coerces command parameters with it.
HEAVY = (
    "alembic",
    "fastapi",
    "httpx",
    "jieba",
    "numpy",
    "scipy",
    "sklearn",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "yaml",
)

PROBE = textwrap.dedent(
    """
    import contextlib, io, json, sys
    import typer
    from kindbot.cli.main import app

    def paths(cmd, prefix=()):
        found = [prefix]
        if isinstance(cmd, typer.core.TyperGroup):
            ctx = typer.Context(cmd)
            for name in cmd.list_commands(ctx):
                found += paths(cmd.get_command(ctx, name), (*prefix, name))
        return found

    root = typer.main.get_command(app)
    helped = []
    for path in paths(root):
        with contextlib.redirect_stdout(io.StringIO()) as shown:
            root.main([*path, "--help"], prog_name="kindbot", standalone_mode=False)
        assert "Usage: kindbot" in shown.getvalue(), (path, shown.getvalue())
        helped.append(" ".join(path))
    heavy = sorted(m for m in HEAVY if m in sys.modules)
    print(json.dumps({"helped": helped, "heavy": heavy}))
    """
)


def test_every_help_runs_without_importing_heavy_libraries() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["helped"]) > 40, report["helped"]  # every group and command
    assert {"", "kb unanswered", "tenant api-key create", "moderation terms add"} <= set(
        report["helped"]
    )
    assert report["heavy"] == []
