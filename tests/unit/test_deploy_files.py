"""The deployment files name only commands and settings kindbot has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kindbot.cli.main import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTINGS = Path(__file__).resolve().parents[2] / "src" / "kindbot" / "settings.py"


def commands() -> set[str]:
    return {command.name or command.callback.__name__ for command in app.registered_commands}


def test_compose_runs_migrate_first_then_web_without_workers_and_workers() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["web"]["command"][0] == "serve"
    assert services["web"]["environment"]["KINDBOT_SERVE_WORKERS"] == "0"
    assert services["worker"]["command"] == ["worker"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["environment"]["KINDBOT_REDIS_URL"].startswith("redis://")
        url = services[name]["environment"]["KINDBOT_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://")
    for service in services.values():
        command = service.get("command", [])
        if service.get("image") == "kindbot:local":
            assert command[0] in commands()


def test_every_kindbot_command_and_variable_named_exists() -> None:
    known = set(re.findall(r'"(KINDBOT_[A-Z_]+)"', SETTINGS.read_text(encoding="utf-8")))
    files = [p for p in DEPLOY.rglob("*") if p.is_file()]
    assert len(files) >= 7
    for path in files:
        text = path.read_text(encoding="utf-8")
        for variable in re.findall(r"\b(KINDBOT_[A-Z_]+)\b", text):
            assert variable in known, f"{path.name}: {variable} is not a setting"
        for command in re.findall(r"bin/kindbot (\w+)", text):
            assert command in commands(), f"{path.name}: kindbot {command} does not exist"
