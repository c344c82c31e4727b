"""A bundle's ``knowledge`` section: files and synonym groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindbot.bundles.loader import load_bundle
from kindbot.core.errors import InputFileError

HEAD = "tenant: {slug: shop, name: Shop, industry: retail}\n"


def bundle(tmp_path: Path, knowledge: str) -> Path:
    path = tmp_path / "bundle.yaml"
    path.write_text(HEAD + "knowledge:\n" + knowledge, encoding="utf-8")
    return path


def test_synonym_groups_are_collected_in_order(tmp_path: Path) -> None:
    loaded = load_bundle(
        bundle(
            tmp_path,
            "  - {file: faq.csv}\n"
            "  - synonyms: [[快递, 物流, 包裹], [退款, 退钱]]\n"
            "  - synonyms:\n      - [refund, reimburse]\n",
        )
    )
    assert [s.file for s in loaded.knowledge] == ["faq.csv", None, None]
    assert loaded.synonym_groups() == [
        ("快递", "物流", "包裹"),
        ("退款", "退钱"),
        ("refund", "reimburse"),
    ]


@pytest.mark.parametrize(
    ("knowledge", "problem"),
    [
        ("  - {file: faq.csv, synonyms: [[a, b]]}\n", "either file or synonyms"),
        ("  - {}\n", "either file or synonyms"),
        ("  - synonyms: [[快递]]\n", "at least 2"),
        ("  - synonyms: [[快递, '']]\n", "at least 1 character"),
        ("  - synonyms: 快递\n", "valid list"),
    ],
)
def test_bad_knowledge_items_are_refused_with_their_location(
    tmp_path: Path, knowledge: str, problem: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        load_bundle(bundle(tmp_path, knowledge))
    text = "\n".join(str(p) for p in caught.value.problems)
    assert problem in text
    assert "knowledge" in text
