"""A full build's fitted model is kept as bytes and reused only on the same inputs."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest

from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.fitted import FittedModel
from kindbot.dialogue.retrieval import KnowledgeIndex

ENTRIES = [
    KnowledgeEntry(
        f"e{i}",
        f"{topic}怎么办",
        f"关于{topic}的答案",
        (f"{topic}的问题", f"请问{topic}", f"我想问{topic}", f"{topic}相关"),
    )
    for i, topic in enumerate(["运费", "退货", "发票", "会员", "发货", "茶叶", "礼盒", "批发"])
]
QUERIES = ["请问运费多少", "我要退货", "开发票", "会员有什么好处", "什么时候发货"]


def scores(index: KnowledgeIndex) -> list[tuple[str, float]]:
    return [(m.entry_id, m.score) for q in QUERIES for m in index.search(q)]


def test_a_model_round_trips_through_bytes_exactly() -> None:
    index = KnowledgeIndex.build(ENTRIES)
    fitted = index.fitted
    assert fitted is not None
    assert fitted.classifier is not None
    again = FittedModel.from_bytes(fitted.to_bytes())
    assert again.inputs == fitted.inputs
    assert again.calibration == fitted.calibration
    assert again.c == fitted.c
    assert again.classifier is not None
    assert np.array_equal(again.classifier.weights_t, fitted.classifier.weights_t)
    assert np.array_equal(again.classifier.bias, fitted.classifier.bias)
    rebuilt = KnowledgeIndex.build(ENTRIES, fitted=again)
    assert rebuilt.fitted is again
    assert scores(rebuilt) == scores(index)


def test_a_model_fitted_on_the_same_inputs_is_used_as_it_is() -> None:
    fitted = KnowledgeIndex.build(ENTRIES).fitted
    assert fitted is not None
    surer = replace(
        fitted,
        calibration=replace(
            fitted.calibration, confidence_bias=fitted.calibration.confidence_bias + 3
        ),
    )
    plain = scores(KnowledgeIndex.build(ENTRIES))
    reused = scores(KnowledgeIndex.build(ENTRIES, fitted=surer))
    assert [entry for entry, _ in reused] == [entry for entry, _ in plain]
    assert all(mine > theirs for (_, mine), (_, theirs) in zip(reused, plain, strict=True))


def test_a_model_of_other_inputs_is_ignored_and_fitted_anew() -> None:
    fitted = KnowledgeIndex.build(ENTRIES).fitted
    assert fitted is not None
    edited = [*ENTRIES[:-1], replace(ENTRIES[-1], similar=("批发价格",))]
    fresh = KnowledgeIndex.build(edited)
    offered = KnowledgeIndex.build(edited, fitted=fitted)
    assert offered.fitted is not fitted
    assert offered.fitted is not None
    assert offered.fitted.inputs != fitted.inputs
    assert scores(offered) == scores(fresh)
    words_only = KnowledgeIndex.build(ENTRIES, learn=False, fitted=fitted)
    assert words_only.fitted is not None
    assert words_only.fitted.inputs != fitted.inputs


@pytest.mark.parametrize("data", [b"", b"not a model", b"PK\x03\x04broken"])
def test_bytes_that_are_not_a_model_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a fitted knowledge model"):
        FittedModel.from_bytes(data)


def test_a_model_of_another_format_is_refused() -> None:
    fitted = KnowledgeIndex.build(ENTRIES).fitted
    assert fitted is not None
    with np.load(io.BytesIO(fitted.to_bytes())) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["format"] = np.asarray([999])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ValueError, match="of this format"):
        FittedModel.from_bytes(buffer.getvalue())
