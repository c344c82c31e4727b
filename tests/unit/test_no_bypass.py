"""No path to a channel skips the guard: the outbox is written in exactly one place.

The dynamic half of this check runs after every test that uses the real
composition root (``tests/support/invariants.py``): each outbox row must carry
the guard's allow verdict for its message.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kindbot

SRC = Path(kindbot.__file__).parent
WRITES = {"enqueue", "insert_outbound"}


def _callers() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in SRC.rglob("*.py"):
        if "storage" in path.parts:
            continue  # the implementation itself
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRITES
                    and isinstance(node.func.value, ast.Attribute)
                    and node.func.value.attr in {"outbox", "messages"}
                ):
                    found.append((str(path.relative_to(SRC)), function.name))
    return found


def test_only_the_guarded_enqueue_writes_outbound_messages() -> None:
    assert set(_callers()) == {("pipeline/admit/admission.py", "enqueue_guarded")}
