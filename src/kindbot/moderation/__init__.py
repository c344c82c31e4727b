"""Content moderation for Chinese and English text (and QR codes in images).

Implements :class:`kindbot.core.screening.Screener`. The pieces, in the order a
text meets them: :mod:`~kindbot.moderation.charmap` and
:mod:`~kindbot.moderation.projection` (normalisation with offsets),
:mod:`~kindbot.moderation.keys` and :mod:`~kindbot.moderation.compiled`
(lexicon words, their sound-alike and pinyin spellings, one automaton),
:mod:`~kindbot.moderation.findings` (allow-lists, detectors, combination
rules), :mod:`~kindbot.moderation.verdict` (direction and purpose) and
:mod:`~kindbot.moderation.screener` (all of it behind ``screen``).
Core layer: depends only on the contract modules.
"""

from kindbot.moderation.screener import LexiconScreener, build_screener, default_screener

__all__ = ["LexiconScreener", "build_screener", "default_screener"]
