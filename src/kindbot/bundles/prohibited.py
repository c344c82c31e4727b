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
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from kindbot.bundles.loader import _line_of, _path_text
from kindbot.errors import InputFileError, InputProblem
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
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = f"cannot read the prohibited-industries list: {exc.strerror}"
        raise InputFileError([InputProblem(name, None, "", problem)]) from exc
    if len(raw) > MAX_LIST_BYTES:
        raise InputFileError([InputProblem(name, None, "", "file is larger than 1 MiB")])
    try:
        text = raw.decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise InputFileError([InputProblem(name, None, "", "not valid UTF-8")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise InputFileError([InputProblem(name, line, "", problem, "line")]) from exc
    try:
        entries = _List.model_validate(data).root
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if p != "root")
            line = _line_of(node, loc)
            problems.append(InputProblem(name, line, _path_text(loc), error["msg"], "line"))
        raise InputFileError(problems) from exc
    return tuple(
        ProhibitedIndustry(e.id, e.label_zh, e.label_en, tuple(e.aliases), tuple(e.exact))
        for e in entries
    )
