"""A bundle's ``tenant.attributes``: validated with the field and line named, stored in
order, kept when the key is absent, and a removed or retyped attribute loses its values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import TEST_SECRET_KEY

from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.loader import load_bundle
from kindbot.core.errors import InputFileError
from kindbot.core.records.directory import AttributeChange, AttributeDefinition, AttributeType
from kindbot.storage.sealing import SecretBox
from kindbot.storage.sql_store import SqlStore

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
HEAD = "tenant:\n  slug: shop\n  name: Shop\n  industry: retail\n"
DECLARED = (
    HEAD
    + "  attributes:\n"
    + "    - {name: vip_level, type: number, label: VIP level}\n"
    + "    - {name: birthday, type: date}\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_declarations_are_read_in_order_with_default_labels(tmp_path: Path) -> None:
    bundle = load_bundle(write(tmp_path, DECLARED))
    assert [a.definition() for a in bundle.tenant.attributes] == [
        AttributeDefinition("vip_level", AttributeType.NUMBER, "VIP level"),
        AttributeDefinition("birthday", AttributeType.DATE, "birthday"),
    ]


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ("[{name: VIP, type: number}]", "tenant.attributes[0].name"),
        ("[{name: 1st, type: number}]", "tenant.attributes[0].name"),
        ("[{name: vip-level, type: number}]", "tenant.attributes[0].name"),
        ("[{name: vip, type: money}]", "tenant.attributes[0].type"),
        ("[{name: vip}]", "tenant.attributes[0].type"),
        ("[{name: vip, type: bool, default: true}]", "tenant.attributes[0].default"),
        ("[{name: vip, type: bool}, {name: vip, type: text}]", "appears twice"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_field(
    tmp_path: Path, items: str, field: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        load_bundle(write(tmp_path, HEAD + f"  attributes: {items}\n"))
    message = str(caught.value)
    assert field in message, message
    assert "line 5" in message, message


async def test_apply_stores_keeps_and_replaces_declarations(
    store: SqlStore, tmp_path: Path
) -> None:
    box = SecretBox(TEST_SECRET_KEY.encode("ascii"))
    await apply_bundle(store, box, write(tmp_path, DECLARED), NOW)
    async with store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("shop")
        assert tenant is not None
        declared = await tx.attributes.definitions(tenant.id)
        channel = (await tx.channels.list_for_tenant(tenant.id))[0]
        contact = await tx.contacts.get_or_create(
            tenant_id=tenant.id,
            channel_id=channel.id,
            external_id="amy",
            display_name=None,
            now=NOW,
        )
        await tx.attributes.apply(
            tenant.id,
            contact.id,
            [AttributeChange("vip_level", AttributeType.NUMBER, Decimal(2))],
            NOW,
        )
    assert [d.name for d in declared] == ["vip_level", "birthday"]

    await apply_bundle(store, box, write(tmp_path, HEAD), NOW)  # no key: kept as they are
    async with store.transaction(readonly=True) as tx:
        assert await tx.attributes.definitions(tenant.id) == declared
        assert len(await tx.attributes.of_contact(contact.id)) == 1

    retyped = HEAD + "  attributes: [{name: vip_level, type: text}]\n"
    await apply_bundle(store, box, write(tmp_path, retyped), NOW)
    async with store.transaction(readonly=True) as tx:
        assert [d.type for d in await tx.attributes.definitions(tenant.id)] == [AttributeType.TEXT]
        assert await tx.attributes.of_contact(contact.id) == [], "a number is no text"

    await apply_bundle(store, box, write(tmp_path, HEAD + "  attributes: []\n"), NOW)
    async with store.transaction(readonly=True) as tx:
        assert await tx.attributes.definitions(tenant.id) == []
