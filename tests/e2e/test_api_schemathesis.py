"""Schemathesis against the live OpenAPI document of ``/api/v1`` (issue 13).

A real ``kindbot serve`` process on the demo shop (SQLite), a real tenant API
key and the admin token; Schemathesis generates requests for every operation
from ``/api/v1/openapi.json`` and checks that no answer is a 5xx and every
answer matches the schema documented for its status. Fixed budget: a few
examples per operation, a fixed seed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest
from tests.support.cli import kindbot

BIN = Path(sys.executable).parent
EXAMPLES = 3
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINDBOT_")}
    env["KINDBOT_DATA_DIR"] = str(data_dir)
    env["PYTHONUTF8"] = "1"
    return env


def _kindbot(data_dir: Path, *args: str) -> str:
    """A set-up command, in this process (the server and schemathesis are real processes)."""
    result = kindbot(*args, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(base URL, tenant key, admin token) of a real server process on the demo shop."""
    data_dir = tmp_path / "data"
    bundle = tmp_path / "bundle.yaml"
    demo = resources.files("kindbot.demo")
    for name in ("bundle.yaml", "faq.csv"):
        with resources.as_file(demo.joinpath(name)) as source:
            shutil.copy(source, tmp_path / name)
    _kindbot(data_dir, "apply", str(bundle))
    _kindbot(data_dir, "tenant", "approve", "teashop", "--reason", "schemathesis")
    key = _kindbot(data_dir, "tenant", "api-key", "create", "teashop")
    admin = _kindbot(data_dir, "admin", "token")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [str(BIN / "kindbot"), "serve", "--port", str(port)],
            env=_env(data_dir),
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield base, key, admin
        finally:
            process.terminate()
            process.wait(timeout=30)
    log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert "Traceback" not in log, log


@pytest.mark.parametrize("who", ["tenant", "admin"])
def test_the_live_api_matches_its_openapi_document(
    server: tuple[str, str, str], who: str, tmp_path: Path
) -> None:
    base, key, admin = server
    token = key if who == "tenant" else admin
    result = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{base}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            "13",
            "--generation-deterministic",
            "--request-timeout",
            "20",
            "--suppress-health-check",
            "all",
            "--include-path-regex",
            "^/api/v1/",
            "--phases",
            "examples,fuzzing",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
