"""Customers' questions encoded together: one model call for all that wait at once.

The sentence model costs ~1.3 ms for one short question and ~0.5 ms a
question in a batch, and it runs in a worker thread (never on the event
loop). :class:`SentenceBatcher` queues the questions the pipeline is about to
search; its owned task takes everything waiting at that moment, makes one
``asyncio.to_thread(encoder.encode, texts)`` call, and wakes the waiters. The
encoder memoises the vectors, so the search that follows asks it for nothing
new. Under load the batches grow by themselves: questions that arrive while a
batch is in the model wait for the next one.

Contracts: a model error reaches every waiter of that batch; a cancelled
waiter is skipped (the others are not disturbed); the task is owned by the
container's :class:`~kindbot.pipeline.supervisor.TaskSupervisor` (started on
first use) and, when cancelled at shutdown, finishes the batch in the model
and encodes what is still queued before it ends. After that, a question is
encoded alone in a worker thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kindbot.dialogue.dense import TextEncoder, sentence_key
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.pipeline.supervisor import TaskSupervisor

__all__ = ["KEPT_SIZES", "SentenceBatcher"]

KEPT_SIZES = 1024
"""Batch sizes remembered (:attr:`SentenceBatcher.batch_sizes`)."""


@dataclass(frozen=True, slots=True)
class _Waiter:
    text: str
    done: asyncio.Future[None]


class SentenceBatcher:
    """Prepares questions' sentence vectors in shared model calls (see the module docstring)."""

    def __init__(self, encoder: TextEncoder, supervisor: TaskSupervisor) -> None:
        self._encoder = encoder
        self._supervisor = supervisor
        self._queue: list[_Waiter] = []
        self._wake = asyncio.Event()
        self._started = False
        self._stopped = False
        self.batch_sizes: list[int] = []
        """Texts per model call, oldest first (the last :data:`KEPT_SIZES`)."""

    async def prepare(self, index: KnowledgeIndex, text: str) -> None:
        """Return once ``text``'s vector is memoised by the encoder; at once when
        ``index`` would not use it (:meth:`KnowledgeIndex.wants_sentence`).
        Raises what the model raised."""
        if not index.wants_sentence(text):
            return
        key = sentence_key(text)  # what the search will ask the encoder for
        if not self._running():
            await asyncio.to_thread(self._encoder.encode, [key])
            return
        waiter = _Waiter(key, asyncio.get_running_loop().create_future())
        self._queue.append(waiter)
        self._wake.set()
        await waiter.done

    def _running(self) -> bool:
        """Start the owned task on first use; False once it stopped (or cannot start)."""
        if self._stopped:
            return False
        if not self._started:
            if self._supervisor.closing:
                return False
            self._started = True
            self._supervisor.start("sentence-batches", self._run)
        return True

    async def _run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                await self._flush()
        finally:
            self._stopped = True  # from now on, prepare() encodes alone
            while self._queue:
                await self._flush()

    async def _flush(self) -> None:
        """Encode everything queued in one call and settle its waiters."""
        waiting, self._queue = self._queue, []
        self._wake.clear()
        live = [w for w in waiting if not w.done.done()]
        if not live:
            return
        texts = list(dict.fromkeys(w.text for w in live))
        self._record(len(texts))
        work = asyncio.ensure_future(asyncio.to_thread(self._encoder.encode, texts))
        try:
            await asyncio.wait([work])  # never raises the model's error; never cancels it
        except asyncio.CancelledError:
            # The thread cannot be stopped: let it finish, settle its waiters, then stop.
            await asyncio.wait([work])
            _settle(live, work.exception())
            raise
        _settle(live, work.exception())

    def _record(self, size: int) -> None:
        self.batch_sizes.append(size)
        if len(self.batch_sizes) > KEPT_SIZES:
            del self.batch_sizes[: len(self.batch_sizes) - KEPT_SIZES]


def _settle(waiters: list[_Waiter], error: BaseException | None) -> None:
    """Wake ``waiters`` with ``error`` (the model's), or with success when None."""
    for waiter in waiters:
        if waiter.done.done():
            continue  # its caller was cancelled
        if error is None:
            waiter.done.set_result(None)
        else:
            waiter.done.set_exception(error)
