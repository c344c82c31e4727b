"""A flow drawn as a diagram: its transitions and a layered layout of its states (pure).

:func:`transitions` lists every arrow of a :class:`FlowSpec` — a state's
``next``, a call's ``then`` and ``on_error`` (without ``on_error`` a failed call
ends the flow with an apology), and ``answer`` (the flow ends). :func:`layout`
places the states top to bottom in layers by their distance from the start
(states the start never reaches come last, the end below everything), each
layer centred, and routes each arrow: straight down to a later layer, round the
right-hand side back up or across. The template draws the result as inline SVG
with the labels in the page's language; nothing here knows about languages.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from kindbot.dialogue.flow_specs import FlowSpec, StepSpec

END = ""
"""The target of an arrow that ends the flow (drawn as the end node)."""

BOX_WIDTH = 200
BOX_HEIGHT = 44
LAYER_GAP = 72
COLUMN_GAP = 32
MARGIN = 24
SIDE_ROUTE = 40
"""How far right of the widest layer arrows that go back up (or across) run."""
LABEL_ROOM = 160
"""Room right of the boxes (or of the side lanes) for arrow labels."""


class TransitionKind(StrEnum):
    """Why an arrow is taken."""

    NEXT = "next"
    CALL_OK = "call_ok"
    CALL_ERROR = "call_error"
    ANSWER = "answer"


@dataclass(frozen=True, slots=True)
class Transition:
    """An arrow from state ``source`` to ``target`` (:data:`END`: the flow ends).

    ``detail``: the slot a ``next`` waits for, or the endpoint a call uses.
    """

    source: str
    target: str
    kind: TransitionKind
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Box:
    """A state's box (``name`` :data:`END` for the end node); ``x``/``y`` its top left."""

    name: str
    x: int
    y: int
    start: bool

    @property
    def centre_x(self) -> int:
        return self.x + BOX_WIDTH // 2


@dataclass(frozen=True, slots=True)
class Arrow:
    """A transition's SVG path (``d``) and where its label sits."""

    transition: Transition
    path: str
    label_x: int
    label_y: int


@dataclass(frozen=True, slots=True)
class Diagram:
    """A laid-out flow: the canvas size, the boxes and the arrows."""

    width: int
    height: int
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]


def _step_transitions(step: StepSpec) -> list[Transition]:
    slot = step.slot.name if step.slot is not None else ""
    if step.next is not None:
        return [Transition(step.name, step.next, TransitionKind.NEXT, slot)]
    if step.call is not None:
        endpoint = step.call.endpoint
        return [
            Transition(step.name, step.call.then, TransitionKind.CALL_OK, endpoint),
            Transition(step.name, step.call.on_error or END, TransitionKind.CALL_ERROR, endpoint),
        ]
    if step.answer is not None:
        return [Transition(step.name, END, TransitionKind.ANSWER, slot)]
    return []


def transitions(flow: FlowSpec) -> tuple[Transition, ...]:
    """Every arrow of ``flow``, state by state in the flow's order."""
    return tuple(t for step in flow.states for t in _step_transitions(step))


def layers(flow: FlowSpec, arrows: tuple[Transition, ...]) -> list[list[str]]:
    """The states by layer: breadth-first distance from the start, then the unreached,
    then the end node (when an arrow ends the flow)."""
    names = [step.name for step in flow.states]
    depth: dict[str, int] = {}
    if flow.start in names:
        depth[flow.start] = 0
        todo = deque([flow.start])
        while todo:
            name = todo.popleft()
            for arrow in arrows:
                if arrow.source == name and arrow.target in names and arrow.target not in depth:
                    depth[arrow.target] = depth[name] + 1
                    todo.append(arrow.target)
    deepest = max(depth.values(), default=-1)
    for name in names:
        depth.setdefault(name, deepest + 1)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in sorted(names, key=lambda n: (depth[n], names.index(n))):
        rows[depth[name]].append(name)
    if any(arrow.target == END for arrow in arrows):
        rows.append([END])
    return rows


def layout(flow: FlowSpec) -> Diagram:
    """``flow`` laid out top to bottom (see the module docstring)."""
    arrows = transitions(flow)
    rows = layers(flow, arrows)
    widest = max((len(row) for row in rows), default=1)
    content = widest * BOX_WIDTH + (widest - 1) * COLUMN_GAP
    boxes: dict[str, Box] = {}
    row_of: dict[str, int] = {}
    for index, row in enumerate(rows):
        span = len(row) * BOX_WIDTH + (len(row) - 1) * COLUMN_GAP
        left = MARGIN + (content - span) // 2
        for column, name in enumerate(row):
            x = left + column * (BOX_WIDTH + COLUMN_GAP)
            y = MARGIN + index * (BOX_HEIGHT + LAYER_GAP)
            boxes[name] = Box(name, x, y, start=name == flow.start)
            row_of[name] = index
    side = MARGIN + content + SIDE_ROUTE
    drawn: list[Arrow] = []
    for number, arrow in enumerate(arrows):
        source, target = boxes[arrow.source], boxes[arrow.target]
        if row_of[arrow.target] > row_of[arrow.source]:
            x1, y1 = source.centre_x, source.y + BOX_HEIGHT
            x2, y2 = target.centre_x, target.y
            middle = (y1 + y2) // 2
            path = f"M{x1},{y1} C{x1},{middle} {x2},{middle} {x2},{y2}"
            drawn.append(Arrow(arrow, path, (x1 + x2) // 2 + 6, middle - 4))
        else:
            lane = side + (number % 3) * 12
            x1, y1 = source.x + BOX_WIDTH, source.y + BOX_HEIGHT // 2
            x2, y2 = target.x + BOX_WIDTH, target.y + BOX_HEIGHT // 2 + 6
            path = f"M{x1},{y1} C{lane},{y1} {lane},{y2} {x2},{y2}"
            drawn.append(Arrow(arrow, path, lane + 6, (y1 + y2) // 2))
    backwards = any(a.label_x > side for a in drawn)
    width = MARGIN + content + (SIDE_ROUTE + 24 if backwards else 0) + LABEL_ROOM + MARGIN
    height = MARGIN + len(rows) * BOX_HEIGHT + (len(rows) - 1) * LAYER_GAP + MARGIN
    ordered = tuple(boxes[name] for row in rows for name in row)
    return Diagram(width, height, ordered, tuple(drawn))
