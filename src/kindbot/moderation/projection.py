"""A text's normalised and sound projections, with offsets back into the original.

:func:`project` folds a whole text with array look-ups (see
:mod:`kindbot.moderation.charmap`): ``norm`` is the folded text with
separators, symbols and emoji removed; ``sound`` is ``norm`` with every Han
character replaced by the symbol of its toneless syllable; ``origin[i]`` is
the index in the original text of the character that produced ``norm[i]``.
Offsets are Python string indices (code points).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kindbot.moderation.charmap import LIMIT, SYLLABLE_BASE, U32, WIDTH, FoldTables, tables


@dataclass(frozen=True)
class Projection:
    """The projections of ``text``; ``norm``, ``sound`` and ``origin`` have equal length."""

    text: str
    norm: U32
    sound16: bytes
    origin: U32

    def __len__(self) -> int:
        return int(self.norm.shape[0])

    @cached_property
    def norm_text(self) -> str:
        """``norm`` as a string (for regular-expression detectors)."""
        return self.norm.tobytes().decode("utf-32-le")

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` of the normalised ``[start, end)`` (non-empty)."""
        return int(self.origin[start]), int(self.origin[end - 1]) + 1

    def gap_before(self, i: int) -> bool:
        """True when ``norm[i]`` starts the text or something was removed just before it."""
        return i == 0 or int(self.origin[i]) - int(self.origin[i - 1]) > 1

    def gap_after(self, i: int) -> bool:
        """True when ``norm[i]`` ends the text or something was removed just after it."""
        return i + 1 >= len(self) or int(self.origin[i + 1]) - int(self.origin[i]) > 1


def _code_points(text: str) -> U32:
    raw = text.encode("utf-32-le", "surrogatepass")
    return np.minimum(np.frombuffer(raw, dtype=np.uint32), LIMIT - 1)  # LIMIT - 1 folds to nothing


def _fold(points: U32, t: FoldTables) -> tuple[U32, U32]:
    if not t.expands[points].any():
        folded = t.single[points]
        origin = np.flatnonzero(folded).astype(np.uint32)
        return folded[origin], origin
    wide = t.fold[points].ravel()
    keep = np.flatnonzero(wide)
    return wide[keep], (keep // WIDTH).astype(np.uint32)


def project(text: str) -> Projection:
    """Fold ``text`` (any ``str``, also with lone surrogates) into its projections."""
    t = tables()
    norm, origin = _fold(_code_points(text), t)
    return Projection(text, norm, t.sound[norm].tobytes(), origin)


def normalise(text: str) -> str:
    """The normalised form of ``text`` (what lexicon terms are compared in)."""
    return project(text).norm_text


def is_syllable(symbol: int) -> bool:
    """True for a sound symbol that stands for a Han syllable."""
    return SYLLABLE_BASE <= symbol < SYLLABLE_BASE + len(tables().syllables)
