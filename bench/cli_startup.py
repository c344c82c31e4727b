"""CLI start-up: wall time of ``kindbot --help`` and of every group's and command's ``--help``.

Usage (from the repository root)::

    .venv/bin/python bench/cli_startup.py [--runs 7] [--kindbot .venv/bin/kindbot]

Each command line is run ``--runs`` times after one warm-up as a fresh process;
the median wall time is printed per command line, then the slowest median. The
command tree is read from the CLI itself, so new commands are measured too.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import typer

from kindbot.cli.main import app


def command_paths(
    group: typer.core.TyperCommand | typer.core.TyperGroup, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Every command path under ``group``, the group itself first."""
    paths = [prefix]
    if isinstance(group, typer.core.TyperGroup):
        ctx = typer.Context(group)
        for name in sorted(group.list_commands(ctx)):
            sub = group.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                paths.extend(command_paths(sub, (*prefix, name)))
    return paths


def wall_seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--kindbot", default=str(Path(sys.executable).parent / "kindbot"))
    parser.add_argument(
        "--depth", type=int, default=None, help="Only command paths this deep (1: kindbot X)."
    )
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    for path in command_paths(typer.main.get_command(app)):
        if args.depth is not None and len(path) > args.depth:
            continue
        argv = [args.kindbot, *path, "--help"]
        wall_seconds(argv)  # warm-up: page cache, .pyc files
        times = [wall_seconds(argv) for _ in range(args.runs)]
        rows.append((" ".join(["kindbot", *path, "--help"]), statistics.median(times)))
        print(f"{rows[-1][1]:7.3f} s  {rows[-1][0]}", flush=True)
    worst = max(rows, key=lambda r: r[1])
    print(f"\n{len(rows)} command lines, {args.runs} runs each")
    print(f"slowest median {worst[1]:.3f} s ({worst[0]})")


if __name__ == "__main__":
    main()
