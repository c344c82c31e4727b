"""``kindbot user``: dashboard accounts from the command line, as an operator creates them."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

import pytest
from tests.support.cli import CliRun, kindbot

DEMO_BUNDLE = Path(str(resources.files("kindbot.demo").joinpath("bundle.yaml")))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    assert kindbot("apply", DEMO_BUNDLE, data_dir=data).returncode == 0
    return data


def ok(result: CliRun) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_users_are_added_granted_listed_and_revoked(data_dir: Path) -> None:
    added = ok(
        kindbot(
            "user",
            "add",
            "Owner@Teashop.cn",
            "--name",
            "店主",
            "--tenant",
            "teashop",
            "--role",
            "tenant_admin",
            "--password-stdin",
            data_dir=data_dir,
            input="a long enough password\n",
        )
    )
    assert "owner@teashop.cn" in added
    assert "tenant_admin of teashop" in added
    ok(
        kindbot(
            "user",
            "add",
            "agent@teashop.cn",
            "--password-stdin",
            data_dir=data_dir,
            input="another long password\n",
        )
    )
    ok(
        kindbot(
            "user",
            "grant",
            "agent@teashop.cn",
            "--tenant",
            "teashop",
            "--role",
            "agent",
            data_dir=data_dir,
        )
    )

    listing = ok(kindbot("user", "list", data_dir=data_dir))
    assert "owner@teashop.cn  店主  teashop:tenant_admin" in listing
    assert "agent@teashop.cn  agent  teashop:agent" in listing
    agents = ok(kindbot("agent", "list", "--tenant", "teashop", data_dir=data_dir))
    assert "agent@teashop.cn" in agents  # an agent member answers the inbox

    ok(kindbot("user", "revoke", "agent@teashop.cn", "--tenant", "teashop", data_dir=data_dir))
    assert "agent@teashop.cn  agent  -" in ok(kindbot("user", "list", data_dir=data_dir))
    audit = ok(kindbot("audit", "verify", "--tenant", "teashop", data_dir=data_dir))
    assert "teashop" in audit


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "x@y.cn", "--password-stdin"), "short\n", "10 to 256 characters"),
        (("user", "add", "not-an-email", "--password-stdin"), "long enough pass\n", "not an email"),
        (("user", "add", "x@y.cn", "--tenant", "teashop", "--password-stdin"), "", "go together"),
        (
            (
                "user",
                "add",
                "x@y.cn",
                "--tenant",
                "nowhere",
                "--role",
                "viewer",
                "--password-stdin",
            ),
            "long enough pass\n",
            "no tenant 'nowhere'",
        ),
        (("user", "grant", "ghost@y.cn", "--tenant", "teashop", "--role", "viewer"), "", "no user"),
        (("user", "revoke", "ghost@y.cn", "--tenant", "teashop"), "", "no user"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_created(
    data_dir: Path, args: tuple[str, ...], stdin: str, message: str
) -> None:
    refused = kindbot(*args, data_dir=data_dir, input=stdin)
    assert refused.returncode != 0
    assert message in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "x@y.cn" not in ok(kindbot("user", "list", data_dir=data_dir))


def test_an_email_has_one_account(data_dir: Path) -> None:
    args = ("user", "add", "x@y.cn", "--password-stdin")
    ok(kindbot(*args, data_dir=data_dir, input="long enough pass\n"))
    again = kindbot(*args, data_dir=data_dir, input="long enough pass\n")
    assert again.returncode == 1
    assert "x@y.cn has an account already" in again.stderr


def test_the_demo_has_one_login_per_role_and_keeps_them_on_a_rerun(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kindbot.cli.main import _demo_logins

    monkeypatch.setenv("KINDBOT_DATA_DIR", str(data_dir))
    first = asyncio.run(_demo_logins("teashop"))
    again = asyncio.run(_demo_logins("teashop"))
    assert first == again
    assert [label for _, label in first] == ["platform admin", "tenant admin", "agent", "viewer"]
    listing = ok(kindbot("user", "list", data_dir=data_dir))
    assert "admin@kindbot.demo  admin platform-admin  -" in listing
    assert "owner@teashop.demo  owner  teashop:tenant_admin" in listing
    assert "agent@teashop.demo  agent  teashop:agent" in listing
    assert "viewer@teashop.demo  viewer  teashop:viewer" in listing
