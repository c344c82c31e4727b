"""Reading and validating bundle files, with errors that name file, line and path.

Every problem is reported (not only the first) as an :class:`InputProblem`
whose ``location`` is the path inside the file (``channels[1].secret``) and
whose ``row`` is the YAML line of that path, when it can be found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kindbot.bundles.schema import Bundle
from kindbot.errors import InputFileError, InputProblem

MAX_BUNDLE_BYTES = 1024 * 1024


def _path_text(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest node along ``loc`` that exists."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def read_yaml_file(
    path: Path, limit: int = MAX_BUNDLE_BYTES, what: str = ""
) -> tuple[Any, yaml.Node | None]:
    """The parsed YAML document at ``path`` and its node tree (for line numbers).

    Raises :class:`InputFileError` for an unreadable, oversized, non-UTF-8 or
    malformed file, naming the line where the parser gives one; ``what`` names
    the file's role in the message ("cannot read the …").
    """
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            [
                InputProblem(
                    name, None, "", f"cannot read{' ' + what if what else ''}: {exc.strerror}"
                )
            ]
        ) from exc
    if len(raw) > limit:
        raise InputFileError([InputProblem(name, None, "", "file is larger than 1 MiB")])
    try:
        text = raw.decode("utf-8")
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except UnicodeDecodeError as exc:
        raise InputFileError([InputProblem(name, None, "", "not valid UTF-8")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise InputFileError([InputProblem(name, line, "", problem, "line")]) from exc


def located_problem(
    name: str, node: yaml.Node | None, loc: tuple[int | str, ...], problem: str
) -> InputProblem:
    """A problem at path ``loc`` inside a YAML file, with the line of that path."""
    return InputProblem(name, _line_of(node, loc), _path_text(loc), problem, "line")


def load_bundle(path: Path) -> Bundle:
    """Parse and validate a bundle file, or raise :class:`InputFileError`."""
    name = str(path)
    data, node = read_yaml_file(path)
    if not isinstance(data, dict):
        raise InputFileError([InputProblem(name, None, "", "a bundle must be a YAML mapping")])
    problems: list[InputProblem] = []
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(
                p
                for p in error["loc"]
                if not (isinstance(p, str) and p in {"webchat", "webhook", "wechat_oa", "wecom"})
            )
            if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
                loc += ("type",)  # the discriminator is what is wrong, not the whole channel
            problems.append(located_problem(name, node, loc, error["msg"]))
    if problems:
        raise InputFileError(problems)
    return bundle
