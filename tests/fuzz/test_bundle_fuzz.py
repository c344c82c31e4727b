"""Fuzzing the bundle loader: any YAML document gives a bundle or a located error.

Hypothesis generates bundle-shaped documents with random structures and wrong
types, raw text (invalid UTF-8, lone surrogates, huge strings), alias bombs and
deep nesting. Property: :func:`load_bundle` (and the flow checks after it)
returns a bundle or raises :class:`InputFileError` naming the file, never
another exception, within a fixed budget.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kindbot.bundles.flows_apply import check_flows
from kindbot.bundles.loader import load_bundle
from kindbot.core.errors import InputFileError

BUDGET = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEYS = [
    "tenant",
    "slug",
    "name",
    "industry",
    "channels",
    "id",
    "type",
    "secret",
    "knowledge",
    "file",
    "flows",
    "states",
    "trigger",
    "start",
    "prompt",
    "slot",
    "answer",
    "endpoints",
    "url",
    "guard",
    "llm",
    "test_contacts",
    "webchat",
    "webhook",
    "wechat_oa",
    "wecom",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(KEYS),
    st.text(min_size=5000, max_size=20000).map(lambda s: s * 3),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner, max_size=6),
    ),
    max_leaves=30,
)
bundles = st.fixed_dictionaries(
    {},
    optional={
        "tenant": st.one_of(
            values,
            st.fixed_dictionaries(
                {"slug": values, "name": values, "industry": st.sampled_from(["retail", values])}
            ),
        ),
        "channels": st.one_of(values, st.lists(st.dictionaries(st.sampled_from(KEYS), values))),
        "knowledge": values,
        "flows": values,
        "endpoints": values,
        "guard": values,
        "handlers": st.just([]),  # never import arbitrary module names from a fuzzer
    },
)


def check(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.yaml"
        path.write_bytes(raw)
        problems = []
        try:
            bundle = load_bundle(path)
            check_flows(bundle, path)
        except InputFileError as exc:
            problems = list(exc.problems) or [None]
        assert all(p is not None and p.file == str(path) for p in problems), problems


@BUDGET
@given(bundles)
def test_bundle_shaped_documents(document: dict[str, Any]) -> None:
    check(yaml.safe_dump(document, allow_unicode=True).encode("utf-8", "surrogatepass"))


@BUDGET
@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))


@BUDGET
@given(st.binary(max_size=400))
def test_any_bytes(raw: bytes) -> None:
    check(raw)


@BUDGET
@given(st.integers(min_value=2, max_value=12), st.integers(min_value=2, max_value=12))
def test_alias_bombs(width: int, levels: int) -> None:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    head = "tenant: {slug: shop, name: *a%d, industry: retail}\nflows: *a%d\n"
    check(("\n".join(lines) + "\n" + head % (levels - 1, levels - 1)).encode())


@BUDGET
@given(st.integers(min_value=1, max_value=20_000), st.sampled_from(["[", "{a: ", "- "]))
def test_deep_nesting(depth: int, opener: str) -> None:
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    if opener == "- ":
        text = "".join("  " * i + "- \n" for i in range(min(depth, 3000)))
    else:
        text = "tenant: " + opener * depth + "1" + closer * depth + "\n"
    check(text.encode())


def test_a_recursive_alias_is_refused() -> None:
    check(b"tenant: &t {slug: *t}\nchannels: &c [*c]\n")
