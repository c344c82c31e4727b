"""Real ``kindbot`` processes for end-to-end tests: start, wait until healthy, stop or kill."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

KINDBOT = Path(sys.executable).parent / "kindbot"
START_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any ``KINDBOT_*`` variable, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINDBOT_")}
    env["PYTHONUTF8"] = "1"
    env.update(settings)
    return env


def run_cli(env: Mapping[str, str], *args: str | Path) -> str:
    """Run ``kindbot ARGS`` to completion; its stdout (fails the test on a non-zero exit)."""
    result = subprocess.run(
        [str(KINDBOT), *map(str, args)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


class KindbotProcess:
    """``kindbot ARGS`` as a child process, its output in ``log_path``.

    ``port``: a server, healthy once ``/healthz`` answers 200; None: a worker,
    started once running.
    """

    def __init__(
        self, args: Sequence[str], env: Mapping[str, str], log_path: Path, port: int | None
    ) -> None:
        self._args = [str(KINDBOT), *args]
        self._env = dict(env)
        self._log_path = log_path
        self.port = port
        self.base = f"http://127.0.0.1:{port}" if port is not None else ""
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @classmethod
    def server(cls, env: Mapping[str, str], log_dir: Path, name: str) -> KindbotProcess:
        port = free_port()
        return cls(["serve", "--port", str(port)], env, log_dir / f"{name}.log", port)

    async def start(self) -> None:
        self.starts += 1
        self.process = await asyncio.to_thread(self._spawn)
        if self.port is None:
            return
        deadline = time.monotonic() + START_TIMEOUT_S
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log()
                try:
                    if (await http.get(f"{self.base}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self._args} did not start\n{self.log()}")

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self._log_path.open("ab") as log:
            return subprocess.Popen(self._args, env=self._env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        if not self._log_path.exists():
            return ""
        return self._log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
