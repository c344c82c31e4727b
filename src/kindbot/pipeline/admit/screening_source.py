"""The :class:`kindbot.core.screening.ScreenerSource` of a container: lexicon edits without restart.

:class:`ModerationScreeners` keeps one :class:`LexiconScreener`. At most
once per ``check_interval`` it reads the generation of every lexicon scope
(one small query); when any changed it reloads the stored terms and compiles
a new screener off the event loop, recompiling only the scopes that changed
(the shipped lexicon is compiled once per process).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from kindbot.core.ports.seams import Store
from kindbot.core.records.moderation import ModerationTerm
from kindbot.core.screening import Screener
from kindbot.moderation.compiled import CompiledLexicon
from kindbot.moderation.screener import (
    LexiconScreener,
    TextClassifier,
    compile_terms,
    compiled_platform,
)

CHECK_INTERVAL_S = 1.0
"""How often, at most, the generations are read."""

PLATFORM_SCOPE = "platform"


class ModerationScreeners:
    """Hands out the current screener; safe for concurrent callers (one rebuild at a time)."""

    def __init__(
        self,
        store: Store,
        *,
        check_interval: float = CHECK_INTERVAL_S,
        classifier: TextClassifier | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._interval = check_interval
        self._classifier = classifier
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._screener: LexiconScreener | None = None
        self._generations: dict[str, int] | None = None
        self._compiled: dict[str, tuple[int, CompiledLexicon]] = {}
        self._checked_at = 0.0

    def invalidate(self) -> None:
        """Read the generations on the next call (this process just edited the lexicon)."""
        self._checked_at = float("-inf")

    async def current(self) -> Screener:
        """The screener for the lexicon as stored at most ``check_interval`` ago."""
        if self._screener is not None and self._monotonic() - self._checked_at < self._interval:
            return self._screener
        async with self._lock:
            if self._screener is None or self._monotonic() - self._checked_at >= self._interval:
                await self._refresh()
        assert self._screener is not None
        return self._screener

    async def _refresh(self) -> None:
        async with self._store.transaction(readonly=True) as tx:
            generations = await tx.moderation_terms.generations()
            terms = await tx.moderation_terms.all() if generations != self._generations else None
        if terms is not None or self._screener is None:
            self._screener = await asyncio.to_thread(self._build, generations, terms or [])
            self._generations = generations
        self._checked_at = self._monotonic()

    def _build(
        self, generations: dict[str, int], terms: Sequence[ModerationTerm]
    ) -> LexiconScreener:
        scopes: dict[str, list[ModerationTerm]] = {}
        for term in terms:
            scopes.setdefault(term.tenant_id or PLATFORM_SCOPE, []).append(term)
        compiled: dict[str, tuple[int, CompiledLexicon]] = {}
        for scope, own in scopes.items():
            generation = generations.get(scope, 0)
            previous = self._compiled.get(scope)
            if previous is not None and previous[0] == generation:
                compiled[scope] = previous
            else:
                compiled[scope] = (generation, compile_terms(own))
        self._compiled = compiled
        overlay = compiled.get(PLATFORM_SCOPE)
        return LexiconScreener(
            compiled_platform(),
            overlay=overlay[1] if overlay else None,
            tenants={s: c for s, (_, c) in compiled.items() if s != PLATFORM_SCOPE},
            classifier=self._classifier,
        )
