"""Validation of lexicon edits by the operator and by tenants (pure).

A tenant tightens, never loosens past the platform: its allow words may not
contain a platform BLOCK term of gambling, pornography, fraud or drugs (and
at screening time a tenant's allow word never suppresses one anyway).
"""

from __future__ import annotations

from kindbot.core.records.moderation import TermAction
from kindbot.core.screening import ContentCategory
from kindbot.moderation.compiled import CompiledLexicon
from kindbot.moderation.projection import project
from kindbot.moderation.screener import compiled_platform

MAX_TERM_CHARS = 100


def check_edit(
    term: str,
    category: str | None,
    action: TermAction,
    *,
    tenant: bool,
    overlay: CompiledLexicon | None = None,
) -> list[str]:
    """Problems with adding ``term`` (empty: fine). ``overlay``: the operator's own terms."""
    problems = []
    if not term.strip():
        problems.append("the term is empty")
    elif len(term) > MAX_TERM_CHARS:
        problems.append(f"the term is longer than {MAX_TERM_CHARS} characters")
    elif len(project(term)) == 0:
        problems.append("the term has no letters, digits or Chinese characters")
    if action is not TermAction.ALLOW:
        if category not in {c.value for c in ContentCategory}:
            known = ", ".join(c.value for c in ContentCategory)
            problems.append(f"a {action.value} term needs --category, one of: {known}")
    elif tenant and not problems:
        covered = protected_terms_in(term, overlay)
        if covered:
            problems.append(
                "a tenant cannot allow a platform block term of gambling, pornography, "
                f"fraud or drugs: {', '.join(covered)}"
            )
    return problems


def protected_terms_in(term: str, overlay: CompiledLexicon | None = None) -> list[str]:
    """The protected platform terms that occur (exactly) in ``term``."""
    p = project(term)
    lexicons = [compiled_platform()] + ([overlay] if overlay is not None else [])
    found = [
        hit.word.text
        for lexicon in lexicons
        for hit in lexicon.hits(p)
        if hit.word.protected and hit.rule == "lexicon"
    ]
    return list(dict.fromkeys(found))
