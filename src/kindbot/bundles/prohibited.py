"""The operator's list of prohibited industries (``KINDBOT_PROHIBITED_INDUSTRIES``).

The file is a YAML list in the shape of the built-in list
(:data:`kindbot.guard.industries.DEFAULT_PROHIBITED`)::

    - id: gambling                 # stable id: [a-z0-9_]
      label_zh: 赌博
      label_en: gambling
      aliases: [博彩, casino, betting]   # match inside the declared industry
      exact: [赌]                        # match only the whole declared industry

It replaces the built-in list (copy the entries you want to keep). Problems are
reported like bundle problems: file, line, path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from kindbot.bundles.loader import located_problem, read_yaml_file
from kindbot.core.errors import InputFileError
from kindbot.guard.industries import DEFAULT_PROHIBITED, ProhibitedIndustry

MAX_LIST_BYTES = 1024 * 1024
_NAME = Annotated[str, Field(min_length=1, max_length=100)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")]
    label_zh: _NAME
    label_en: _NAME
    aliases: list[_NAME] = Field(default_factory=list)
    exact: list[_NAME] = Field(default_factory=list)


class _List(RootModel[list[_Entry]]):
    @field_validator("root")
    @classmethod
    def _unique_ids(cls, value: list[_Entry]) -> list[_Entry]:
        seen: set[str] = set()
        for entry in value:
            if entry.id in seen:
                raise ValueError(f"id {entry.id!r} appears twice")
            seen.add(entry.id)
        return value


def load_prohibited_industries(path: Path | None) -> tuple[ProhibitedIndustry, ...]:
    """The list in ``path``, or the built-in list when ``path`` is None.

    Raises :class:`InputFileError` naming every problem.
    """
    if path is None:
        return DEFAULT_PROHIBITED
    data, node = read_yaml_file(path, MAX_LIST_BYTES, "the prohibited-industries list")
    try:
        entries = _List.model_validate(data).root
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if p != "root")
            problems.append(located_problem(str(path), node, loc, error["msg"]))
        raise InputFileError(problems) from exc
    return tuple(
        ProhibitedIndustry(e.id, e.label_zh, e.label_en, tuple(e.aliases), tuple(e.exact))
        for e in entries
    )
