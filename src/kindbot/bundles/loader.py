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
from kindbot.channels.registry import KINDS
from kindbot.core.errors import InputFileError, InputProblem

MAX_BUNDLE_BYTES = 1024 * 1024
MAX_DEPTH = 64
"""Deeper nesting of mappings and lists is refused (the YAML composer recurses per level)."""
MAX_VALUES = 200_000
"""More values than this, counting each alias as a copy of what it names, are refused:
a few lines of aliases can otherwise stand for billions of values ("billion laughs")."""


def _shape_problem(text: str) -> tuple[int | None, str] | None:
    """Why the document is too deep or expands too far, and the line, or None when it is fine.

    Reads the YAML event stream (PyYAML's parser keeps its own stack, so a deep
    document cannot exhaust Python's): depth is the open collections, and each
    alias counts as many values as the anchored value it repeats.
    """
    sizes: dict[str, int] = {}  # anchor -> values in it, once its value is complete
    open_: list[tuple[str | None, int]] = []  # open collections: anchor, values before it
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            anchor = event.anchor or ""
            if anchor not in sizes:
                if any(a == anchor for a, _ in open_):
                    return line, f"alias *{anchor} refers to a value that contains it"
                continue  # an undefined alias: the parser reports it with its line
            total += sizes[anchor]
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                return line, f"nested more than {MAX_DEPTH} levels deep"
            open_.append((event.anchor, total))
            total += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            opened, before = open_.pop()
            if opened is not None:
                sizes[opened] = total - before
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        if total > MAX_VALUES:
            return line, f"more than {MAX_VALUES:,} values (counting what each alias repeats)"
    return None


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
        shape = _shape_problem(text)
        if shape is not None:
            raise InputFileError([InputProblem(name, shape[0], "", shape[1], "line")])
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except UnicodeDecodeError as exc:
        raise InputFileError([InputProblem(name, None, "", "not valid UTF-8")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise InputFileError([InputProblem(name, line, "", problem, "line")]) from exc


def bundle_node(path: Path) -> yaml.Node | None:
    """The YAML node tree of a file already read by :func:`read_yaml_file`, for line numbers.

    None when the file cannot be read or parsed now (its problems were reported then).
    """
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


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
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p in KINDS))
            if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
                loc += ("type",)  # the discriminator is what is wrong, not the whole channel
            problems.append(located_problem(name, node, loc, error["msg"]))
    if problems:
        raise InputFileError(problems)
    return bundle
