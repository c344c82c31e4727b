"""Machine-readable output is printed verbatim (issue 13, defect 11).

Texts are data: rich's emoji codes (``:o:``) and markup (``[bold]``) must not
rewrite them, in ``--json`` output or in the lines printed for people.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import CliRun
from tests.support.cli import kindbot as run_cli

TEXTS = [":o: ok :thumbs_up:", "[bold]not bold[/bold] [red]x", "正常 :smile: [link]"]


def kindbot(*args: str, tmp_path: Path) -> CliRun:
    """``kindbot ARGS…`` with no database (the default lexicons); it must succeed."""
    result = run_cli(*args, data_dir=tmp_path / "none")
    assert result.returncode == 0, result.stderr
    return result


def test_moderate_json_prints_the_texts_verbatim(tmp_path: Path) -> None:
    result = kindbot("moderate", "--json", *TEXTS, tmp_path=tmp_path)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["text"] for row in rows] == TEXTS
    assert "⭕" not in result.stdout
    assert "👍" not in result.stdout


def test_moderate_lines_for_people_keep_the_texts(tmp_path: Path) -> None:
    result = kindbot("moderate", *TEXTS, tmp_path=tmp_path)
    for text in TEXTS:
        assert text in result.stdout, result.stdout
