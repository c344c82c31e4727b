"""The :class:`kindbot.core.screening.Screener` of kindbot: lexicon, detectors, rules.

:class:`LexiconScreener` holds the compiled platform lexicon and one small
compiled lexicon per tenant that has its own terms. Screening a text is one
projection (:func:`kindbot.moderation.projection.project`), one automaton
pass per lexicon, then pure rules (:mod:`kindbot.moderation.findings`) and
the verdict (:func:`kindbot.moderation.verdict.decide`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from typing import Protocol

from kindbot.core.records.moderation import ModerationTerm
from kindbot.core.screening import (
    ContentCategory,
    ContentContext,
    ScreeningLevel,
    ScreeningVerdict,
)
from kindbot.moderation.compiled import CompiledLexicon, Hit
from kindbot.moderation.findings import (
    Cue,
    Finding,
    combination_findings,
    contact_findings,
    excerpt_match,
    mobile_findings,
    pattern_cues,
    suppress_allowed,
    term_findings,
    word_cues,
)
from kindbot.moderation.lexicon import PSEUDO_CUES, Lexicon, platform_lexicon, words_from_terms
from kindbot.moderation.projection import Projection, project
from kindbot.moderation.verdict import decide

TEXTS_KEPT = 4096
"""Texts whose findings a screener remembers (least recently used first out)."""


class TextClassifier(Protocol):
    """The optional statistical stage: a category and its probability, or None."""

    def classify(self, text: str) -> tuple[ContentCategory, float] | None: ...


class LexiconScreener:
    """Screens texts against the platform lexicon and, per tenant, the tenant's own words.

    ``platform``: the shipped lexicon (with the combination rules);
    ``overlay``: the operator's stored edits; ``tenants`` maps a tenant id to
    the compiled lexicon of its own words (deny, flag and allow).
    ``classifier`` (off by default) adds a ``flag`` finding when the
    statistical model is confident and nothing else was found. A screener is
    immutable (new terms build a new one), so it remembers the findings of its
    last :data:`TEXTS_KEPT` texts: a shop's answers and its customers' common
    questions are screened once.
    """

    def __init__(
        self,
        platform: CompiledLexicon,
        overlay: CompiledLexicon | None = None,
        tenants: Mapping[str, CompiledLexicon] | None = None,
        classifier: TextClassifier | None = None,
    ) -> None:
        self.platform = platform
        self._overlay = overlay if overlay is not None and len(overlay) else None
        self._tenants = {t: c for t, c in (tenants or {}).items() if len(c)}
        self._classifier = classifier
        self._found = lru_cache(maxsize=TEXTS_KEPT)(self._findings)
        combos = platform.lexicon.combinations
        self._protected_cues = frozenset(g for c in combos if c.protected for g in c.groups)
        self._pattern_needs = [
            (frozenset(g for g in c.groups if g not in PSEUDO_CUES), PSEUDO_CUES & set(c.groups))
            for c in combos
            if PSEUDO_CUES & set(c.groups)
        ]

    def screen(self, text: str, context: ContentContext) -> ScreeningVerdict:
        """The verdict for ``text``; never raises on any ``str`` (see module doc)."""
        return decide(self.findings(text, context.tenant_id), context)

    def findings(self, text: str, tenant_id: str | None = None) -> list[Finding]:
        """Every finding in ``text``, before direction and purpose are weighed."""
        return list(self._found(text, tenant_id))

    def _findings(self, text: str, tenant_id: str | None) -> tuple[Finding, ...]:
        p = project(text)
        hits = self._hits(p, tenant_id)
        cues = word_cues(hits)
        cues += pattern_cues(p, self._pattern_partners(cues))
        found = term_findings(p, hits)
        found += combination_findings(p, self.platform.lexicon.combinations, cues)
        found += contact_findings(p, cues)
        found += mobile_findings(p, cues)
        if self._classifier is not None and not found:
            found += self._classified(p)
        return tuple(found)

    def _pattern_partners(self, cues: list[Cue]) -> dict[str, list[Cue]]:
        """For ``link``/``money``: the cues of rules that need them, when those rules can fire."""
        present = {c.group for c in cues}
        near: dict[str, list[Cue]] = {}
        for words, patterns in self._pattern_needs:
            if words <= present:
                partners = [c for c in cues if c.group in words]
                for group in patterns:
                    near.setdefault(group, []).extend(partners)
        return near

    def _hits(self, p: Projection, tenant_id: str | None) -> list[Hit]:
        hits = self.platform.hits(p)
        if self._overlay is not None:
            hits += self._overlay.hits(p)
        own = self._tenants.get(tenant_id) if tenant_id is not None else None
        if own is not None:
            hits += own.hits(p)
        return suppress_allowed(hits, self._protected_cues)

    def _classified(self, p: Projection) -> list[Finding]:
        assert self._classifier is not None
        result = self._classifier.classify(p.text)
        if result is None or len(p) == 0:
            return []
        category, probability = result
        match = excerpt_match(p, category, "classifier", f"p={probability:.2f}", 0, len(p))
        return [Finding(match, ScreeningLevel.FLAG)]


@cache
def compiled_platform() -> CompiledLexicon:
    """The shipped lexicon, compiled once per process (immutable, shared)."""
    return CompiledLexicon(platform_lexicon())


def default_screener(classifier: TextClassifier | None = None) -> LexiconScreener:
    """A screener over the shipped platform lexicon only."""
    return LexiconScreener(compiled_platform(), classifier=classifier)


def build_screener(
    terms: Sequence[ModerationTerm], classifier: TextClassifier | None = None
) -> LexiconScreener:
    """A screener over the shipped lexicon plus stored platform and tenant edits."""
    platform = [t for t in terms if t.tenant_id is None]
    by_tenant: dict[str, list[ModerationTerm]] = {}
    for term in terms:
        if term.tenant_id is not None:
            by_tenant.setdefault(term.tenant_id, []).append(term)
    return LexiconScreener(
        compiled_platform(),
        overlay=compile_terms(platform),
        tenants={tenant: compile_terms(own) for tenant, own in by_tenant.items()},
        classifier=classifier,
    )


def compile_terms(terms: Sequence[ModerationTerm]) -> CompiledLexicon:
    """Stored edits of one scope as a compiled lexicon (no combination rules)."""
    return CompiledLexicon(Lexicon(words_from_terms(terms)))
