"""The :class:`kindbot.screening.Screener` of kindbot: lexicon, detectors, rules.

:class:`LexiconScreener` holds the compiled platform lexicon and one small
compiled lexicon per tenant that has its own terms. Screening a text is one
projection (:func:`kindbot.moderation.projection.project`), one automaton
pass per lexicon, then pure rules (:mod:`kindbot.moderation.findings`) and
the verdict (:func:`kindbot.moderation.verdict.decide`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from kindbot.moderation.compiled import CompiledLexicon, Hit
from kindbot.moderation.findings import (
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
from kindbot.moderation.lexicon import Lexicon, platform_lexicon
from kindbot.moderation.projection import Projection, project
from kindbot.screening import (
    ContentCategory,
    ContentContext,
    ScreeningLevel,
    ScreeningVerdict,
)
from kindbot.moderation.verdict import decide


class TextClassifier(Protocol):
    """The optional statistical stage: a category and its probability, or None."""

    def classify(self, text: str) -> tuple[ContentCategory, float] | None: ...


class LexiconScreener:
    """Screens texts against the platform lexicon and, per tenant, the tenant's own words.

    ``tenants`` maps a tenant id to the compiled lexicon of its own words
    (deny, flag and allow). ``classifier`` (off by default) adds a ``flag``
    finding when the statistical model is confident.
    """

    def __init__(
        self,
        platform: CompiledLexicon,
        tenants: Mapping[str, CompiledLexicon] | None = None,
        classifier: TextClassifier | None = None,
    ) -> None:
        self.platform = platform
        self._tenants = dict(tenants or {})
        self._classifier = classifier
        combos = platform.lexicon.combinations
        self._protected_cues = frozenset(g for c in combos if c.protected for g in c.groups)

    def screen(self, text: str, context: ContentContext) -> ScreeningVerdict:
        """The verdict for ``text``; never raises on any ``str`` (see module doc)."""
        return decide(self.findings(text, context.tenant_id), context)

    def findings(self, text: str, tenant_id: str | None = None) -> list[Finding]:
        """Every finding in ``text``, before direction and purpose are weighed."""
        p = project(text)
        hits = self._hits(p, tenant_id)
        cues = word_cues(hits) + pattern_cues(p)
        found = term_findings(p, hits)
        found += combination_findings(p, self.platform.lexicon.combinations, cues)
        found += contact_findings(p, cues)
        found += mobile_findings(p, cues)
        if self._classifier is not None and not found:
            found += self._classified(p)
        return found

    def _hits(self, p: Projection, tenant_id: str | None) -> list[Hit]:
        hits = self.platform.hits(p)
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


def default_screener(extra: Lexicon | None = None) -> LexiconScreener:
    """A screener over the shipped platform lexicon (plus ``extra`` words, if any)."""
    lexicon = platform_lexicon()
    if extra is not None:
        lexicon = lexicon.merged(extra.words)
    return LexiconScreener(CompiledLexicon(lexicon))
