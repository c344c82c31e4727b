"""The deadline race: passive reply in time, else the outbox; retries never double-send."""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response
from starlette.types import Message
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.core.events import InboundEvent, InboundKind
from kindbot.core.records.outbox import OutboxStatus
from kindbot.pipeline.handover.deadline import feed_before_deadline
from kindbot.pipeline.handover.passive import HANDOVER_LEASE, RETRY_WINDOW
from kindbot.web.callbacks.handover import HandoverResponse


def event(key: str, clock: FakeClock) -> InboundEvent:
    return InboundEvent(
        channel_public_id="teashop.web",
        sender="openid-1",
        kind=InboundKind.TEXT,
        text="运费怎么算",
        idempotency_key=key,
        received_at=clock.now(),
    )


async def outbox_status(container: Container, message_id: str) -> OutboxStatus:
    async with container.store.transaction() as tx:
        item = await tx.outbox.for_message(message_id)
    assert item is not None
    return item.status


async def test_in_time_the_caller_gets_the_replies(container: Container, clock: FakeClock) -> None:
    result = await feed_before_deadline(
        container.pipeline, container.supervisor, event("k1", clock), budget=30.0
    )
    assert result is not None
    handover = await container.pipeline.claim_for_passive(result)
    assert [r.message_id for r in handover.replies] == [r.message_id for r in result.replies]
    message_id = handover.replies[0].message_id
    assert await outbox_status(container, message_id) is OutboxStatus.HANDED_OVER
    await container.settlements.confirm(handover)  # the response was sent
    assert await outbox_status(container, message_id) is OutboxStatus.DELIVERED


async def test_too_late_the_reply_is_released_to_the_outbox(
    container: Container, clock: FakeClock
) -> None:
    result = await feed_before_deadline(
        container.pipeline, container.supervisor, event("k2", clock), budget=0.0
    )
    assert result is None
    await container.supervisor.aclose()  # drains the job and its release

    outcome = await container.pipeline.outcome_by_key("teashop.web", "k2")
    assert outcome is not None
    assert await container.outbox_worker.run_once() == 1  # due now, not after the hold
    assert await outbox_status(container, outcome.replies[0].message_id) is OutboxStatus.DELIVERED


async def test_a_retry_takes_the_held_reply_once(container: Container, clock: FakeClock) -> None:
    first = await container.pipeline.feed(event("k3", clock), sync_grace=timedelta(seconds=60))
    retry = await container.pipeline.feed(event("k3", clock), sync_grace=timedelta(seconds=60))

    assert retry.duplicate
    earlier = await container.pipeline.claim_for_passive(first)
    later = await container.pipeline.claim_for_passive(retry)  # the earlier answer never arrived
    assert len(earlier.replies) == len(later.replies) == 1
    await container.settlements.give_back(earlier)  # superseded: changes nothing
    await container.settlements.confirm(earlier)
    assert await outbox_status(container, later.replies[0].message_id) is OutboxStatus.HANDED_OVER
    await container.settlements.confirm(later)
    assert (await container.pipeline.claim_for_passive(retry)).replies == ()  # delivered
    clock.advance(timedelta(minutes=5))
    assert await container.outbox_worker.run_once() == 0  # already handed over


async def test_a_reply_claimed_by_the_worker_is_never_passive(
    container: Container, clock: FakeClock
) -> None:
    result = await container.pipeline.feed(event("k4", clock), sync_grace=timedelta(seconds=60))
    await container.pipeline.release(result)
    async with container.store.transaction() as tx:
        claimed = await tx.outbox.claim_due(clock.now(), clock.now() + timedelta(minutes=1), 10)
    assert len(claimed) == 1
    assert (await container.pipeline.claim_for_passive(result)).replies == ()


async def test_a_taken_reply_is_handed_over_in_the_outcome_transaction(
    container: Container, clock: FakeClock
) -> None:
    result = await feed_before_deadline(
        container.pipeline, container.supervisor, event("k5", clock), budget=30.0, take=1
    )
    assert result is not None
    assert result.taken == result.replies[:1]
    assert result.handover is not None
    message_id = result.taken[0].message_id
    assert await outbox_status(container, message_id) is OutboxStatus.HANDED_OVER
    assert await container.pipeline.claim_for_passive(result) == result.handover  # the same claim
    await container.settlements.confirm(result.handover)
    assert await outbox_status(container, message_id) is OutboxStatus.DELIVERED
    clock.advance(timedelta(minutes=5))
    assert await container.outbox_worker.run_once() == 0


async def test_an_unconfirmed_hand_over_is_sent_by_the_worker_after_its_lease(
    container: Container, clock: FakeClock
) -> None:
    """The process died between the claim and the response: nobody confirms."""
    result = await container.pipeline.feed(
        event("k7", clock), sync_grace=timedelta(seconds=60), take=1
    )
    message_id = result.taken[0].message_id
    assert await container.outbox_worker.run_once() == 0  # the lease keeps the worker away
    clock.advance(HANDOVER_LEASE + timedelta(seconds=1))
    assert await container.outbox_worker.run_once() == 1
    assert await outbox_status(container, message_id) is OutboxStatus.DELIVERED
    assert result.handover is not None
    await container.settlements.confirm(result.handover)  # a late confirmation changes nothing
    retry = await container.pipeline.feed(event("k7", clock), sync_grace=timedelta(seconds=60))
    assert (await container.pipeline.claim_for_passive(retry)).replies == ()  # never twice


async def test_a_retry_reclaims_an_unconfirmed_hand_over_and_the_worker_never_sends_it(
    container: Container, clock: FakeClock
) -> None:
    result = await container.pipeline.feed(
        event("k8", clock), sync_grace=timedelta(seconds=60), take=1
    )
    clock.advance(timedelta(seconds=5))  # WeChat gave up on the first answer and retries
    retry = await container.pipeline.feed(event("k8", clock), sync_grace=timedelta(seconds=60))
    handover = await container.pipeline.claim_for_passive(retry)
    assert [r.message_id for r in handover.replies] == [r.message_id for r in result.taken]
    clock.advance(HANDOVER_LEASE - timedelta(seconds=1))  # the first claim's lease is over
    assert await container.outbox_worker.run_once() == 0  # the retry's claim holds it
    await container.settlements.confirm(handover)
    clock.advance(timedelta(minutes=5))
    assert await container.outbox_worker.run_once() == 0


async def test_a_taken_reply_that_missed_the_deadline_is_given_back_to_the_worker(
    container: Container, clock: FakeClock
) -> None:
    result = await feed_before_deadline(
        container.pipeline, container.supervisor, event("k6", clock), budget=0.0, take=1
    )
    assert result is None  # the caller answered "success": nobody handed the reply over
    await container.supervisor.aclose()  # drains the job and its release

    outcome = await container.pipeline.outcome_by_key("teashop.web", "k6")
    assert outcome is not None
    message_id = outcome.replies[0].message_id
    assert await outbox_status(container, message_id) is OutboxStatus.PENDING
    assert await container.outbox_worker.run_once() == 1  # due now, not after the hold
    assert await outbox_status(container, message_id) is OutboxStatus.DELIVERED


async def test_an_unconfirmed_hand_over_nobody_retried_in_a_serving_process_was_received(
    container: Container, clock: FakeClock
) -> None:
    """Killed after writing the response, before confirming: the caller got it and never
    retried, although this process was serving — it is recorded, not sent again."""
    container.outbox_worker.serving(clock.now() - timedelta(seconds=30))
    result = await container.pipeline.feed(
        event("k9", clock), sync_grace=timedelta(seconds=60), take=1
    )
    clock.advance(HANDOVER_LEASE + timedelta(seconds=1))
    assert await container.outbox_worker.run_once() == 0
    assert await outbox_status(container, result.taken[0].message_id) is OutboxStatus.DELIVERED


async def test_an_unconfirmed_hand_over_whose_retries_found_no_server_is_sent(
    container: Container, clock: FakeClock
) -> None:
    result = await container.pipeline.feed(
        event("k10", clock), sync_grace=timedelta(seconds=60), take=1
    )
    clock.advance(RETRY_WINDOW + timedelta(seconds=1))
    container.outbox_worker.serving(clock.now())  # restarted after the last retry slot
    clock.advance(HANDOVER_LEASE)
    assert await container.outbox_worker.run_once() == 1
    assert await outbox_status(container, result.taken[0].message_id) is OutboxStatus.DELIVERED


async def test_a_caller_that_is_gone_gives_its_replies_back(
    container: Container, clock: FakeClock
) -> None:
    result = await container.pipeline.feed(
        event("k11", clock), sync_grace=timedelta(seconds=60), take=1
    )
    assert result.handover is not None
    response = HandoverResponse(Response(b"reply"), container.settlements, result.handover)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await response({"type": "http", "asgi": {"version": "3.0"}}, receive, send)
    assert sent == []
    assert await outbox_status(container, result.taken[0].message_id) is OutboxStatus.PENDING
    assert await container.outbox_worker.run_once() == 1  # due at once
