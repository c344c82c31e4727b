"""A bundle's ``llm:`` section: validated with the field named, stored sealed, removable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import TEST_SECRET_KEY

from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.loader import load_bundle
from kindbot.core.egress import AddressPolicy
from kindbot.core.errors import InputFileError
from kindbot.dialogue.grounded import GenerativeSettings
from kindbot.storage.schema import tenants
from kindbot.storage.sealing import SecretBox
from kindbot.storage.sql_store import SqlStore

HEAD = "tenant: {slug: shop, name: Shop, industry: retail}\n"
KEY = "sk-very-secret-key-0123456789"
LOCAL = AddressPolicy(allow_private=True)  # the endpoint is on loopback
LLM = f"llm: {{base_url: 'http://127.0.0.1:8000/v1/', model: qwen2.5, api_key: {KEY}}}\n"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_and_the_key_stays_out_of_repr(tmp_path: Path) -> None:
    bundle = load_bundle(write(tmp_path, HEAD + LLM))
    assert bundle.llm is not None
    assert (bundle.llm.timeout_seconds, bundle.llm.max_entries) == (3.0, 3)
    assert (bundle.llm.min_confidence, bundle.llm.temperature) == (0.15, 0.0)
    assert KEY not in repr(bundle)
    assert load_bundle(write(tmp_path, HEAD)).llm is None


@pytest.mark.parametrize(
    ("llm", "field"),
    [
        ("{base_url: 'ftp://host/v1', model: m}", "llm.base_url"),
        ("{base_url: 'http://', model: m}", "llm.base_url"),
        ("{base_url: 'http://h/v1'}", "llm.model"),
        ("{base_url: 'http://h/v1', model: m, timeout_seconds: 11}", "llm.timeout_seconds"),
        ("{base_url: 'http://h/v1', model: m, timeout_seconds: 0}", "llm.timeout_seconds"),
        ("{base_url: 'http://h/v1', model: m, max_entries: 9}", "llm.max_entries"),
        ("{base_url: 'http://h/v1', model: m, min_confidence: 1.5}", "llm.min_confidence"),
        ("{base_url: 'http://h/v1', model: m, temperature: -1}", "llm.temperature"),
        ("{base_url: 'http://h/v1', model: m, organization: x}", "llm.organization"),
        (f"{{base_url: 'gopher://h', model: m, api_key: {KEY}}}", "llm.base_url"),
    ],
)
def test_a_bad_llm_section_is_refused_naming_the_field(
    tmp_path: Path, llm: str, field: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        load_bundle(write(tmp_path, HEAD + f"llm: {llm}\n"))
    message = str(caught.value)
    assert field in message, message
    assert KEY not in message


async def stored_llm(store: SqlStore) -> str | None:
    async with store.engine.connect() as conn:
        value = (
            await conn.execute(select(tenants.c.llm_sealed).where(tenants.c.slug == "shop"))
        ).scalar_one()
    assert value is None or isinstance(value, str)
    return value


async def test_the_settings_are_stored_sealed_and_removing_the_section_turns_them_off(
    store: SqlStore, tmp_path: Path
) -> None:
    box = SecretBox(TEST_SECRET_KEY.encode("ascii"))
    path = write(tmp_path, HEAD + LLM)
    await apply_bundle(store, box, path, NOW, addresses=LOCAL)
    sealed = await stored_llm(store)
    assert sealed is not None
    assert KEY not in sealed  # sealed, not plaintext
    assert "qwen" not in sealed
    settings = GenerativeSettings.from_json(box.open(sealed))
    assert settings.base_url == "http://127.0.0.1:8000/v1"
    assert (settings.model, settings.api_key) == ("qwen2.5", KEY)

    again = await apply_bundle(store, box, path, NOW, addresses=LOCAL)
    assert not again.tenant_changed
    assert await stored_llm(store) == sealed  # the same settings are not re-sealed

    await apply_bundle(store, box, write(tmp_path, HEAD), NOW, addresses=LOCAL)
    assert await stored_llm(store) is None
