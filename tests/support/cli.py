"""The ``kindbot`` command line, run in this process as a user runs it.

:func:`kindbot` invokes the real command (``kindbot.cli.main.app``, the console
script's Typer app) through click's test runner: the same argument parsing,
the same ``asyncio.run`` per command, the same exit codes, stdout and stderr a
subprocess would give — without a 2–3 s interpreter start-up per command.

Contract of one invocation:

* the environment is this process's minus every ``KINDBOT_*`` variable, plus
  ``KINDBOT_DATA_DIR`` and the ``env`` given; ``os.environ`` is restored
  afterwards (also what a command itself set, as ``kindbot demo`` does);
* the working directory is ``data_dir``'s parent, as the subprocess tests had;
* an uncaught exception is written to stderr as a traceback with exit status 1,
  as the interpreter does, so "no Traceback in stderr" still proves "no crash";
* rich renders for an 80-column non-terminal (``COLUMNS=80``), as under a pipe.

A command runs ``asyncio.run`` itself, so it cannot run inside a running event
loop: async tests use :func:`kindbot_in_thread`. Invocations are serialised
(stdin, stdout and the environment are process-wide).

The few tests that must see a real process (start-up time, ``kill -9`` of a
server, a fresh interpreter) start :data:`KINDBOT`, the installed console script.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import click
from click.testing import CliRunner

KINDBOT = Path(sys.executable).parent / "kindbot"
"""The installed console script, for tests that need a real process."""

_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class CliRun:
    """What one command did: its exit status and its output, decoded and raw."""

    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes
    stderr_bytes: bytes


@cache
def _command() -> click.Command:
    """The console script's click command (built once: Typer builds it per call)."""
    import typer

    from kindbot.cli.main import app

    return typer.main.get_command(app)


def _environment(data_dir: Path, env: Mapping[str, str] | None) -> dict[str, str | None]:
    """Overrides for ``os.environ``: no inherited ``KINDBOT_*``, then the test's values."""
    cleared: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KINDBOT_")}
    return cleared | {"COLUMNS": "80", "KINDBOT_DATA_DIR": str(data_dir), **(env or {})}


def kindbot(
    *args: str | Path,
    data_dir: Path,
    input: str | bytes = "",
    env: Mapping[str, str] | None = None,
) -> CliRun:
    """Run ``kindbot ARGS…`` against ``data_dir`` with ``input`` on stdin (see the module)."""
    runner = CliRunner()
    with _ONE_AT_A_TIME, _restored_environ(), contextlib.chdir(data_dir.parent):
        result = runner.invoke(
            _command(),
            [str(arg) for arg in args],
            input=input,
            env=_environment(data_dir, env),
            prog_name="kindbot",
        )
    stderr = result.stderr_bytes
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception)).encode()
    return CliRun(
        returncode=result.exit_code,
        stdout=result.stdout_bytes.decode(),
        stderr=stderr.decode(),
        stdout_bytes=result.stdout_bytes,
        stderr_bytes=stderr,
    )


async def kindbot_in_thread(
    *args: str | Path,
    data_dir: Path,
    input: str | bytes = "",
    env: Mapping[str, str] | None = None,
) -> CliRun:
    """:func:`kindbot` from an async test: the loop keeps running (a test server keeps serving)."""
    return await asyncio.to_thread(kindbot, *args, data_dir=data_dir, input=input, env=env)


@contextlib.contextmanager
def _restored_environ() -> Iterator[None]:
    """``os.environ`` as it was, whatever the command set or removed."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
