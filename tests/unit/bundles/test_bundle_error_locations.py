"""Problems in files a bundle references are located in the bundle (issue 13, defect 11).

A missing knowledge file and a bad ``handlers:`` module name the bundle file and
the line of the entry; one mistake in a flow is reported once, at its own line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kindbot.bundles.apply import prepare_bundle
from kindbot.core.errors import InputFileError, InputProblem

HEAD = """tenant: {slug: shop, name: Shop, industry: retail}
channels:
  - {id: web, type: webchat}
"""


def problems(tmp_path: Path, text: str) -> list[InputProblem]:
    path = tmp_path / "shop.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        prepare_bundle(path)
    return list(caught.value.problems)


def test_a_missing_knowledge_file_is_located_at_its_bundle_line(tmp_path: Path) -> None:
    (tmp_path / "faq.csv").write_text("question,answer\n运费?,包邮\n", encoding="utf-8")
    found = problems(tmp_path, "knowledge:\n  - file: faq.csv\n  - file: gone.csv\n")
    assert [(p.file, p.row, p.location) for p in found] == [
        (str(tmp_path / "shop.yaml"), 6, "knowledge[1].file")
    ]
    assert "gone.csv" in found[0].problem
    assert "shop.yaml, line 6, knowledge[1].file" in str(found[0])


def test_a_bad_handlers_module_is_located_at_its_bundle_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "handlers:\n  - kindbot_no_such_handlers_module\n")
    assert [(p.file, p.row, p.location) for p in found] == [
        (str(tmp_path / "shop.yaml"), 5, "handlers[0]")
    ]
    assert "kindbot_no_such_handlers_module" in found[0].problem


def test_problems_of_every_referenced_file_are_reported_together(tmp_path: Path) -> None:
    found = problems(tmp_path, "knowledge:\n  - file: gone.csv\nhandlers:\n  - kindbot_nope_mod\n")
    assert [p.location for p in found] == ["knowledge[0].file", "handlers[0]"]


def test_one_flow_mistake_is_reported_once(tmp_path: Path) -> None:
    flow = """flows:
  - name: f
    trigger: {keywords: [go]}
    start: a
    states:
      a:
        prompt: {zh: 请留电话, en: Your phone number}
        slot: {name: phone, type: phone}
        answer: {zh: "记下了 {day}", en: "Noted {day}"}
"""
    found = problems(tmp_path, flow)
    assert len(found) == len({str(p) for p in found}), [str(p) for p in found]
    assert [p.location for p in found] == [
        "flows[0].states.a.answer.zh",
        "flows[0].states.a.answer.en",
    ]


def test_one_template_for_both_languages_is_reported_once(tmp_path: Path) -> None:
    flow = """flows:
  - name: f
    trigger: {keywords: [go]}
    start: a
    states:
      a:
        answer: "Noted {day} {day}"
"""
    found = problems(tmp_path, flow)
    assert [(p.row, p.location) for p in found] == [(10, "flows[0].states.a.answer")]
