"""The operator's prohibited-industries file and a bundle's ``test_contacts``."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindbot.bundles.loader import load_bundle
from kindbot.bundles.prohibited import load_prohibited_industries
from kindbot.core.errors import InputFileError
from kindbot.guard.industries import DEFAULT_PROHIBITED, ProhibitedIndustry, find_prohibited
from kindbot.settings import Settings


def test_no_file_means_the_built_in_list() -> None:
    assert load_prohibited_industries(None) == DEFAULT_PROHIBITED


def test_settings_read_the_file_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "prohibited.yaml"
    assert Settings.from_env({}).prohibited_industries_file is None
    env = {"KINDBOT_PROHIBITED_INDUSTRIES": str(path)}
    assert Settings.from_env(env).prohibited_industries_file == path


def test_the_operator_file_replaces_the_list(tmp_path: Path) -> None:
    path = tmp_path / "prohibited.yaml"
    path.write_text(
        "- id: gambling\n"
        "  label_zh: 赌博\n"
        "  label_en: gambling\n"
        "  aliases: [博彩, casino]\n"
        "- id: tobacco\n"
        "  label_zh: 烟草\n"
        "  label_en: tobacco\n"
        "  aliases: [卷烟, vape]\n"
        "  exact: [烟]\n",
        encoding="utf-8",
    )
    loaded = load_prohibited_industries(path)
    assert loaded == (
        ProhibitedIndustry("gambling", "赌博", "gambling", ("博彩", "casino")),
        ProhibitedIndustry("tobacco", "烟草", "tobacco", ("卷烟", "vape"), ("烟",)),
    )
    assert find_prohibited("电子烟 vape 批发", loaded) == loaded[1]
    assert find_prohibited("刷单", loaded) is None, "not in the operator's list"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- id: Bad Id\n  label_zh: 坏\n  label_en: bad\n", "line 1, [0].id"),
        ("- id: a\n  label_zh: 甲\n", "[0].label_en: Field required"),
        ("- id: a\n  label_zh: 甲\n  label_en: a\n  colour: red\n", "line 4, [0].colour"),
        (
            "- {id: a, label_zh: 甲, label_en: a}\n- {id: a, label_zh: 乙, label_en: b}\n",
            "appears twice",
        ),
        ("gambling: yes\n", "valid list"),
        ("- [unclosed\n", "not valid YAML"),
    ],
)
def test_a_bad_operator_file_names_file_line_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "prohibited.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        load_prohibited_industries(path)
    message = str(caught.value)
    assert "prohibited.yaml" in message
    assert expected in message, message


def test_a_missing_operator_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot read the prohibited-industries list"):
        load_prohibited_industries(tmp_path / "nope.yaml")


BUNDLE = (
    "tenant: {slug: acme, name: Acme, industry: retail}\nchannels:\n  - {id: web, type: webchat}\n"
)


def test_test_contacts_name_channels_of_the_bundle(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(
        BUNDLE + "test_contacts:\n"
        "  - {channel: web, external_id: boss}\n"
        "  - {channel: console, external_id: 'console:alice'}\n",
        encoding="utf-8",
    )
    bundle = load_bundle(path)
    assert [(c.channel, c.external_id) for c in bundle.test_contacts] == [
        ("web", "boss"),
        ("console", "console:alice"),
    ]


@pytest.mark.parametrize(
    ("contacts", "expected"),
    [
        ("  - {channel: sms, external_id: boss}\n", "[0].channel 'sms' is not a channel"),
        (
            "  - {channel: web, external_id: boss}\n  - {channel: web, external_id: boss}\n",
            "[1] appears twice",
        ),
        ("  - {channel: web}\n", "test_contacts[0].external_id"),
    ],
)
def test_bad_test_contacts_are_reported(tmp_path: Path, contacts: str, expected: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(BUNDLE + "test_contacts:\n" + contacts, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        load_bundle(path)
    message = str(caught.value)
    assert "shop.yaml, line 5" in message or "shop.yaml, line 6" in message, message
    assert expected in message, message


def test_the_platform_slug_is_reserved(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text("tenant: {slug: platform, name: P, industry: retail}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="reserved"):
        load_bundle(path)
