"""The API's command-line side, run as a user runs it (in this process: tests/support/cli.py):
``kindbot admin token``, ``kindbot tenant api-key …``, ``kindbot consent …`` and
``kindbot contact export|erase``.

One data dir per module: the demo shop, approved, after one terminal chat by
``console:alice`` (so she is a contact with messages). Tests run in file order
where later ones build on earlier ones' changes (noted in their docstrings).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from tests.e2e.test_cli_end_to_end import (
    DEMO_SOURCE,
    TENANT,
    failed_cleanly,
    query_db,
    succeeded,
)
from tests.support.cli import kindbot

# The tests build on each other's changes in file order: one process runs them all.
pytestmark = pytest.mark.xdist_group("cli-api-commands")

ALICE = ("--tenant", TENANT, "--channel", "console", "--user", "console:alice")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("api-cli") / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    succeeded(kindbot("tenant", "approve", TENANT, "--reason", "e2e", data_dir=data_dir))
    chat = kindbot(
        "chat",
        "--tenant",
        TENANT,
        "--user",
        "console:alice",
        data_dir=data_dir,
        input="运费多少钱\n",
    )
    succeeded(chat)
    return data_dir


def test_admin_token_is_generated_once_private_and_overridable(shop: Path) -> None:
    first = succeeded(kindbot("admin", "token", data_dir=shop)).stdout.strip()
    second = succeeded(kindbot("admin", "token", data_dir=shop)).stdout.strip()
    configured = kindbot("admin", "token", data_dir=shop, env={"KINDBOT_ADMIN_TOKEN": "s3cret"})

    assert first == second
    assert len(first) > 40
    assert stat.S_IMODE((shop / "admin-token").stat().st_mode) == 0o600
    assert succeeded(configured).stdout.strip() == "s3cret"


def test_api_keys_are_created_listed_and_revoked(shop: Path) -> None:
    created = succeeded(
        kindbot("tenant", "api-key", "create", TENANT, "--label", "crm", data_dir=shop)
    )
    key = created.stdout.strip()
    prefix = key[:16]

    listed = succeeded(kindbot("tenant", "api-key", "list", TENANT, data_dir=shop)).stdout
    assert prefix in listed
    assert key not in listed
    assert key not in str(query_db(shop, "SELECT * FROM api_keys"))
    succeeded(kindbot("tenant", "api-key", "revoke", TENANT, prefix, data_dir=shop))
    again = failed_cleanly(kindbot("tenant", "api-key", "revoke", TENANT, prefix, data_dir=shop))
    assert "no active API key" in again
    assert "no tenant" in failed_cleanly(
        kindbot("tenant", "api-key", "list", "nobody", data_dir=shop)
    )


def test_consent_grant_list_and_withdraw(shop: Path) -> None:
    granted = kindbot(
        "consent", "grant", *ALICE, "--topic", "news", "--wording", "有新茶时通知我",
        "--source", "asked in chat", data_dir=shop,
    )  # fmt: skip
    assert "recorded" in succeeded(granted).stdout

    listed = succeeded(kindbot("consent", "list", *ALICE, data_dir=shop)).stdout
    assert "news" in listed
    assert "有新茶时通知我" in listed
    withdrawn = succeeded(kindbot("consent", "withdraw", *ALICE, "--topic", "news", data_dir=shop))
    assert "1 withdrawn" in withdrawn.stdout
    kinds = query_db(shop, "SELECT decision FROM audit_entries WHERE kind = 'consent' ORDER BY seq")
    assert kinds == [("grant",), ("withdraw",)]
    source = query_db(shop, "SELECT source FROM consents")
    assert source[0][0].startswith("cli:")
    assert source[0][0].endswith("(asked in chat)")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--topic", "news"), "wording"),
        (("--topic", "news", "--wording", "  "), "wording"),
        (("--topic", "has space", "--wording", "ok"), "topic"),
    ],
)
def test_a_bad_grant_fails_naming_the_field_and_records_nothing(
    shop: Path, args: tuple[str, ...], named: str
) -> None:
    before = query_db(shop, "SELECT count(*) FROM consents")
    message = failed_cleanly(kindbot("consent", "grant", *ALICE, *args, data_dir=shop))
    assert message.startswith(f"error: {named}:"), message
    assert query_db(shop, "SELECT count(*) FROM consents") == before


def test_a_contact_must_be_named_and_exist(shop: Path) -> None:
    no_channel = kindbot("consent", "list", "--tenant", TENANT, "--user", "x", data_dir=shop)
    assert "--channel is required" in failed_cleanly(no_channel)
    no_user = kindbot(
        "contact", "export", "--tenant", TENANT, "--channel", "console", data_dir=shop
    )
    assert "--user is required" in failed_cleanly(no_user)
    ghost = kindbot(
        "consent", "list", "--tenant", TENANT, "--channel", "console", "--user", "ghost",
        data_dir=shop,
    )  # fmt: skip
    assert "no contact 'ghost'" in failed_cleanly(ghost)


def test_contact_export_then_erase(shop: Path, tmp_path: Path) -> None:
    """Runs last: erases alice."""
    exported = json.loads(succeeded(kindbot("contact", "export", *ALICE, data_dir=shop)).stdout)
    assert exported["contact"]["external_id"] == "console:alice"
    assert exported["messages"][0]["text"] == "运费多少钱"
    to_file = tmp_path / "alice.json"
    succeeded(kindbot("contact", "export", *ALICE, "--output", to_file, data_dir=shop))
    assert json.loads(to_file.read_text(encoding="utf-8"))["contact"] == exported["contact"]

    assert "--yes" in failed_cleanly(kindbot("contact", "erase", *ALICE, data_dir=shop))
    assert query_db(shop, "SELECT count(*) FROM contacts WHERE external_id = 'console:alice'") == [
        (1,)
    ]
    erased = succeeded(kindbot("contact", "erase", *ALICE, "--yes", data_dir=shop)).stdout
    assert "erased console:alice" in erased

    assert query_db(shop, "SELECT count(*) FROM contacts WHERE external_id = 'console:alice'") == [
        (0,)
    ]
    assert query_db(shop, "SELECT count(*) FROM messages WHERE text = '运费多少钱'") == [(0,)]
    assert "ok" in succeeded(kindbot("audit", "verify", "--tenant", TENANT, data_dir=shop)).stdout
    [(detail,)] = query_db(shop, "SELECT detail FROM audit_entries WHERE kind = 'erasure'")
    assert "alice" not in detail
    assert "no contact" in failed_cleanly(kindbot("contact", "export", *ALICE, data_dir=shop))
