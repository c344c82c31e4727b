"""The :class:`kindbot.core.screening.ScreenerSource` of a container: lexicon edits without restart.

:class:`ModerationScreeners` keeps one :class:`LexiconScreener`. At most
once per ``check_interval`` it reads the generation of every lexicon scope
(one small query); when any changed it reloads the stored terms and compiles
a new screener off the event loop, recompiling only the scopes that changed
(the shipped lexicon is compiled once per process).

Callers hold a database connection when they ask (the guard screens inside
the message's transaction), so :meth:`ModerationScreeners.current` never
waits for the database once a screener exists: a due check runs as an owned
background task and the caller gets the screener it has. (Waiting there once
held every pooled connection waiting for one more: the pool deadlocked until
its timeout — bench/README.md, "Issue 15: after caches …".) Only the very
first screener is awaited; ``Container.warm_up`` builds it before a server
accepts requests, and an edit in this process awaits :meth:`refresh`
outside any transaction.
"""

from __future__ import annotations

import asyncio
import logging
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

log = logging.getLogger(__name__)

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
        self._checking: asyncio.Task[None] | None = None

    async def current(self) -> Screener:
        """The screener, checked against the stored lexicon about every ``check_interval``.

        Never waits for the database once a screener exists (see the module
        docstring): a due check starts in the background.
        """
        if self._screener is None:
            await self.refresh()
        elif self._monotonic() - self._checked_at >= self._interval and self._checking is None:
            self._checking = asyncio.create_task(self._check_in_background())
        assert self._screener is not None
        return self._screener

    async def refresh(self) -> None:
        """Read the lexicon's generations now and rebuild what changed (an edit, start-up).

        Call it outside a transaction: it takes a connection of its own.
        """
        async with self._lock:
            await self._refresh()

    async def settled(self) -> None:
        """Return once a check running in the background has finished."""
        if self._checking is not None:
            await asyncio.shield(self._checking)

    async def aclose(self) -> None:
        """Drain: let a background check finish (the container closes the store after)."""
        await self.settled()

    async def _check_in_background(self) -> None:
        try:
            await self.refresh()
        except Exception:  # the last screener stays; the next call tries again
            log.exception("could not check the moderation lexicon for edits")
            self._checked_at = self._monotonic()
        finally:
            self._checking = None

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
