"""Questions waiting at the same moment share one model call (``SentenceBatcher``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest
from tests.pipeline.test_stored_vectors import ENTRIES
from tests.support.encoders import ConceptEncoder

from kindbot.dialogue.dense import DenseVectors
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.pipeline.decide.sentence_batches import SentenceBatcher
from kindbot.pipeline.supervisor import TaskSupervisor


class GatedEncoder(ConceptEncoder):
    """Records each call's texts; a call waits until ``gate`` is set, then raises
    ``error`` when one is given."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.error: Exception | None = None

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        self.calls.append(list(texts))
        self.entered.set()
        self.gate.wait(timeout=10)
        if self.error is not None:
            raise self.error
        return super().encode(texts)


@pytest.fixture
def encoder() -> GatedEncoder:
    return GatedEncoder()


@pytest.fixture
def index(encoder: GatedEncoder) -> KnowledgeIndex:
    encoder.gate.set()
    built = KnowledgeIndex.build(ENTRIES, encoder=encoder)
    assert built.dense
    assert built.wants_sentence("cancel it")
    encoder.gate.clear()
    encoder.entered.clear()
    encoder.calls.clear()
    return built


async def first_call_running(encoder: GatedEncoder) -> None:
    """Wait until the model is inside its first call (which waits for the gate)."""
    assert await asyncio.to_thread(encoder.entered.wait, 10)


async def test_questions_waiting_together_are_one_model_call(
    encoder: GatedEncoder, index: KnowledgeIndex
) -> None:
    encoder.gate.set()
    supervisor = TaskSupervisor()
    batcher = SentenceBatcher(encoder, supervisor)
    questions = [f"cancel my plan {n}" for n in range(6)]
    await asyncio.gather(*(batcher.prepare(index, q) for q in questions))
    assert encoder.calls == [questions]
    assert batcher.batch_sizes == [6]
    await supervisor.aclose()


async def test_questions_arriving_during_a_call_go_together_in_the_next(
    encoder: GatedEncoder, index: KnowledgeIndex
) -> None:
    supervisor = TaskSupervisor()
    batcher = SentenceBatcher(encoder, supervisor)
    first = asyncio.create_task(batcher.prepare(index, "first"))
    await first_call_running(encoder)
    later = [asyncio.create_task(batcher.prepare(index, f"later {n}")) for n in range(4)]
    await asyncio.sleep(0.01)
    encoder.gate.set()
    await asyncio.gather(first, *later)
    assert encoder.calls == [["first"], [f"later {n}" for n in range(4)]]
    await supervisor.aclose()


async def test_a_model_error_reaches_every_waiter_of_the_batch(
    encoder: GatedEncoder, index: KnowledgeIndex
) -> None:
    encoder.error = RuntimeError("model broke")
    encoder.gate.set()
    supervisor = TaskSupervisor()
    batcher = SentenceBatcher(encoder, supervisor)
    results = await asyncio.gather(
        *(batcher.prepare(index, f"cancel {n}") for n in range(3)), return_exceptions=True
    )
    assert [str(r) for r in results] == ["model broke"] * 3
    encoder.error = None
    await batcher.prepare(index, "the next batch works")
    assert encoder.calls[-1] == ["the next batch works"]
    await supervisor.aclose()


async def test_a_cancelled_waiter_does_not_disturb_the_others(
    encoder: GatedEncoder, index: KnowledgeIndex
) -> None:
    supervisor = TaskSupervisor()
    batcher = SentenceBatcher(encoder, supervisor)
    first = asyncio.create_task(batcher.prepare(index, "first"))
    await first_call_running(encoder)
    gone = asyncio.create_task(batcher.prepare(index, "gone"))
    kept = asyncio.create_task(batcher.prepare(index, "kept"))
    await asyncio.sleep(0.01)
    gone.cancel()
    encoder.gate.set()
    await asyncio.gather(first, kept)
    assert gone.cancelled()
    assert encoder.calls == [["first"], ["kept"]]
    await supervisor.aclose()


async def test_shutdown_finishes_the_running_batch_and_what_is_queued(
    encoder: GatedEncoder, index: KnowledgeIndex
) -> None:
    supervisor = TaskSupervisor()
    batcher = SentenceBatcher(encoder, supervisor)
    first = asyncio.create_task(batcher.prepare(index, "first"))
    await first_call_running(encoder)
    queued = [asyncio.create_task(batcher.prepare(index, f"queued {n}")) for n in range(2)]
    await asyncio.sleep(0.01)
    closing = asyncio.create_task(supervisor.aclose())
    await asyncio.sleep(0.01)
    assert not closing.done(), "the batch in the model is waited for"
    encoder.gate.set()
    await asyncio.gather(first, *queued, closing)
    assert supervisor.running == 0
    assert encoder.calls == [["first"], ["queued 0", "queued 1"]]
    await batcher.prepare(index, "after shutdown")  # encoded alone, in a worker thread
    assert encoder.calls[-1] == ["after shutdown"]


async def test_a_question_the_index_would_not_encode_is_not_queued(
    encoder: GatedEncoder,
) -> None:
    words_only = KnowledgeIndex.build(ENTRIES)
    supervisor = TaskSupervisor()
    batcher = SentenceBatcher(encoder, supervisor)
    await batcher.prepare(words_only, "cancel my plan")
    await batcher.prepare(KnowledgeIndex.build(ENTRIES, encoder=ConceptEncoder()), "   ")
    assert encoder.calls == []
    assert supervisor.running == 0, "no task was started for nothing"
    await supervisor.aclose()
