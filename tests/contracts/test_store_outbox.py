"""The storage contract, part 2: the outbox (due items, leases, retries, delivery)."""

from __future__ import annotations

from datetime import timedelta

from kindbot.core.ports.seams import Store
from kindbot.core.records.outbox import HandoverClaim, HandoverLease, OutboxItem, OutboxStatus
from tests.contracts.builders import T0, Party, at, enqueue_reply, make_party, store_outbound

LEASE = timedelta(seconds=30)


async def enqueue(store: Store, party: Party, text: str = "reply", *, due: int = 0) -> OutboxItem:
    """Commit one outbox item due ``due`` minutes after ``T0``."""
    async with store.transaction() as tx:
        return await enqueue_reply(tx, party, text, not_before=at(due))


async def claim(store: Store, minute: float, limit: int = 10) -> list[OutboxItem]:
    """One worker's claim at ``T0 + minute`` with a 30 s lease."""
    now = at(minute)
    async with store.transaction() as tx:
        return await tx.outbox.claim_due(now, now + LEASE, limit)


async def item(store: Store, message_id: str) -> OutboxItem:
    async with store.transaction() as tx:
        found = await tx.outbox.for_message(message_id)
    assert found is not None
    return found


async def test_enqueue_and_for_message(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party, "您好，已收到 🙏", due=5)
    assert queued.status is OutboxStatus.PENDING
    assert queued.attempts == 0
    assert queued.text == "您好，已收到 🙏"
    assert queued.next_attempt_at == at(5)
    assert queued.created_at == T0
    assert queued.last_error is None
    assert queued.delivered_at is None
    assert (queued.tenant_id, queued.channel_id, queued.contact_id) == (
        party.tenant.id,
        party.channel.id,
        party.contact.id,
    )
    assert await item(store, queued.message_id) == queued
    async with store.transaction() as tx:
        assert await tx.outbox.for_message("no-such-message") is None


async def test_claim_due_returns_only_due_items(store: Store) -> None:
    party = await make_party(store)
    now_item = await enqueue(store, party, "now", due=0)
    later_item = await enqueue(store, party, "later", due=10)

    assert await claim(store, -1) == []
    claimed = await claim(store, 0)
    assert [c.id for c in claimed] == [now_item.id]
    assert claimed[0].status is OutboxStatus.SENDING
    assert claimed[0].attempts == 1
    async with store.transaction() as tx:
        await tx.outbox.mark_delivered(now_item.id, at(0, seconds=1))

    assert await claim(store, 9) == []
    assert [c.id for c in await claim(store, 10)] == [later_item.id], "due at next_attempt_at"


async def test_claim_due_respects_the_limit(store: Store) -> None:
    party = await make_party(store)
    queued = {(await enqueue(store, party, f"m{i}")).id for i in range(5)}
    first = await claim(store, 0, limit=2)
    rest = await claim(store, 0, limit=10)
    assert len(first) == 2
    assert len(rest) == 3
    assert {c.id for c in first} | {c.id for c in rest} == queued


async def test_claimed_items_wait_for_their_lease_to_expire(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party)

    assert [c.id for c in await claim(store, 0)] == [queued.id]
    assert await claim(store, 0) == [], "a claimed item is not claimed again"
    assert await claim(store, 0.25) == [], "not while its lease runs"

    reclaimed = await claim(store, 1)  # the 30 s lease ran out
    assert [c.id for c in reclaimed] == [queued.id]
    assert reclaimed[0].attempts == 2
    assert reclaimed[0].status is OutboxStatus.SENDING


async def test_mark_retry_reschedules(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party)
    await claim(store, 0)
    async with store.transaction() as tx:
        await tx.outbox.mark_retry(queued.id, "HTTP 503", at(5))

    retrying = await item(store, queued.message_id)
    assert retrying.status is OutboxStatus.PENDING
    assert retrying.next_attempt_at == at(5)
    assert retrying.last_error == "HTTP 503"
    assert retrying.attempts == 1

    assert await claim(store, 4) == []
    again = await claim(store, 5)
    assert [c.id for c in again] == [queued.id]
    assert again[0].attempts == 2


async def test_mark_failed(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party)
    await claim(store, 0)
    async with store.transaction() as tx:
        await tx.outbox.mark_failed(queued.id, "recipient blocked the account")

    failed = await item(store, queued.message_id)
    assert failed.status is OutboxStatus.FAILED
    assert failed.last_error == "recipient blocked the account"
    assert failed.delivered_at is None
    assert await claim(store, 60 * 24) == [], "a failed item is never reclaimed"


async def test_mark_delivered_is_idempotent_and_marks_the_message(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party)
    await claim(store, 0)
    async with store.transaction() as tx:
        await tx.outbox.mark_delivered(queued.id, at(0, seconds=2))
    async with store.transaction() as tx:
        await tx.outbox.mark_delivered(queued.id, at(7))

    delivered = await item(store, queued.message_id)
    assert delivered.status is OutboxStatus.DELIVERED
    assert delivered.delivered_at == at(0, seconds=2), "a second delivery changes nothing"
    assert delivered.attempts == 1

    async with store.transaction() as tx:
        [message] = await tx.messages.history(party.conversation.id, 10)
    assert message.id == queued.message_id
    assert message.status == "delivered"


async def test_a_delivered_item_is_never_reclaimed(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party)
    await claim(store, 0)
    async with store.transaction() as tx:
        await tx.outbox.mark_delivered(queued.id, at(0, seconds=1))

    assert await claim(store, 1) == [], "its lease would have expired by now"
    assert await claim(store, 60 * 24 * 365) == []
    assert (await item(store, queued.message_id)).status is OutboxStatus.DELIVERED


async def test_delivery_without_a_claim(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party, due=10)
    async with store.transaction() as tx:
        await tx.outbox.mark_delivered(queued.id, at(1))
    assert await claim(store, 10) == []
    delivered = await item(store, queued.message_id)
    assert delivered.status is OutboxStatus.DELIVERED
    assert delivered.delivered_at == at(1)


async def test_a_delivery_is_final(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party)
    await claim(store, 0)
    async with store.transaction() as tx:
        await tx.outbox.mark_delivered(queued.id, at(0, seconds=1))
    async with store.transaction() as tx:
        await tx.outbox.mark_failed(queued.id, "a late failure report")
        await tx.outbox.mark_retry(queued.id, "a late retry", at(5))

    after = await item(store, queued.message_id)
    assert after.status is OutboxStatus.DELIVERED
    assert after.delivered_at == at(0, seconds=1)
    assert after.last_error is None
    assert await claim(store, 5) == []
    async with store.transaction() as tx:
        [message] = await tx.messages.history(party.conversation.id, 10)
    assert message.status == "delivered"


async def test_a_delivery_after_a_failure_wins(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party)
    await claim(store, 0)
    async with store.transaction() as tx:
        await tx.outbox.mark_failed(queued.id, "worker gave up")
    async with store.transaction() as tx:
        await tx.outbox.mark_delivered(queued.id, at(2))

    after = await item(store, queued.message_id)
    assert after.status is OutboxStatus.DELIVERED
    assert after.delivered_at == at(2)
    async with store.transaction() as tx:
        [message] = await tx.messages.history(party.conversation.id, 10)
    assert message.status == "delivered"


async def test_a_hand_over_is_confirmed_or_given_back_only_by_its_claim(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party, due=60)  # held for the caller's hand-over
    async with store.transaction() as tx:
        assert await tx.outbox.hand_over(queued.id, token="a", lease_until=at(10), again=False)
        assert not await tx.outbox.hand_over(queued.id, token="b", lease_until=at(10), again=False)
    held = await item(store, queued.message_id)
    assert held.status is OutboxStatus.HANDED_OVER
    assert held.handover == "a"
    assert held.delivered_at is None
    assert await claim(store, 5) == [], "an unexpired hand-over keeps the worker away"

    async with store.transaction() as tx:  # a retry supersedes the claim
        assert await tx.outbox.hand_over(queued.id, token="b", lease_until=at(20), again=True)
        assert not await tx.outbox.give_back(queued.id, "a", at(1))
        assert not await tx.outbox.confirm_handover(queued.id, "a", at(1))
        assert await tx.outbox.give_back(queued.id, "b", at(1))
        assert not await tx.outbox.give_back(queued.id, "b", at(1)), "only a held item"

    given_back = await item(store, queued.message_id)
    assert given_back.status is OutboxStatus.PENDING
    assert given_back.handover is None
    assert given_back.next_attempt_at == at(1), "due at once, not after the hold"
    async with store.transaction() as tx:
        [message] = await tx.messages.history(party.conversation.id, 10)
    assert message.status == "pending"
    assert [claimed.id for claimed in await claim(store, 1)] == [queued.id]
    async with store.transaction() as tx:
        assert not await tx.outbox.hand_over(queued.id, token="c", lease_until=at(30), again=True)


async def test_a_confirmed_hand_over_is_delivered_and_final(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party, due=60)
    async with store.transaction() as tx:
        assert await tx.outbox.hand_over(queued.id, token="a", lease_until=at(10), again=False)
        assert await tx.outbox.confirm_handover(queued.id, "a", at(2))
        assert not await tx.outbox.hand_over(queued.id, token="b", lease_until=at(20), again=True)
        assert not await tx.outbox.give_back(queued.id, "a", at(3))
    delivered = await item(store, queued.message_id)
    assert delivered.status is OutboxStatus.DELIVERED
    assert delivered.delivered_at == at(2)
    assert delivered.handover == "a"
    async with store.transaction() as tx:
        [message] = await tx.messages.history(party.conversation.id, 10)
    assert message.status == "delivered"
    assert await claim(store, 1000) == []


async def test_many_hand_overs_are_settled_at_once_each_only_by_its_own_claim(
    store: Store,
) -> None:
    """Group commit's statements: ``(id, token) IN …`` — a stale token settles nothing."""
    party = await make_party(store)
    first, second, third, fourth, fifth = [
        await enqueue(store, party, f"reply {n}", due=60) for n in range(5)
    ]
    async with store.transaction() as tx:
        for queued, token in [(first, "a"), (second, "b"), (third, "c"), (fourth, "d")]:
            assert await tx.outbox.hand_over(
                queued.id, token=token, lease_until=at(10), again=False
            )
        # A retry took the third over (its first claim "c" is stale now).
        assert await tx.outbox.hand_over(third.id, token="c2", lease_until=at(20), again=True)

    confirmations = [
        HandoverClaim(first.id, "a"),
        HandoverClaim(second.id, "b"),
        HandoverClaim(third.id, "c"),  # stale
        HandoverClaim(fifth.id, "e"),  # never claimed: still pending
        HandoverClaim(fourth.id, "a"),  # another claim's token
    ]
    async with store.transaction() as tx:
        assert await tx.outbox.confirm_handovers(confirmations, at(2)) == 2
        assert await tx.outbox.confirm_handovers([], at(2)) == 0
        assert await tx.outbox.give_back_handovers([HandoverClaim(fourth.id, "x")], at(3)) == 0
        assert await tx.outbox.give_back_handovers([HandoverClaim(fourth.id, "d")], at(3)) == 1
        assert await tx.outbox.give_back_handovers([HandoverClaim(first.id, "a")], at(3)) == 0

    statuses = {
        q.text: await item(store, q.message_id) for q in (first, second, third, fourth, fifth)
    }
    assert {text: i.status for text, i in statuses.items()} == {
        "reply 0": OutboxStatus.DELIVERED,
        "reply 1": OutboxStatus.DELIVERED,
        "reply 2": OutboxStatus.HANDED_OVER,
        "reply 3": OutboxStatus.PENDING,
        "reply 4": OutboxStatus.PENDING,
    }
    assert statuses["reply 0"].delivered_at == at(2)
    assert statuses["reply 2"].handover == "c2"
    assert statuses["reply 3"].next_attempt_at == at(3)
    async with store.transaction() as tx:
        history = await tx.messages.history(party.conversation.id, 10)
    assert {m.text: m.status for m in history} == {
        "reply 0": "delivered",
        "reply 1": "delivered",
        "reply 2": "pending",
        "reply 3": "pending",
        "reply 4": "pending",
    }


async def test_an_expired_hand_over_is_the_workers(store: Store) -> None:
    party = await make_party(store)
    queued = await enqueue(store, party, due=60)
    async with store.transaction() as tx:
        assert await tx.outbox.hand_over(queued.id, token="a", lease_until=at(10), again=False)
    [claimed] = await claim(store, 11)
    assert claimed.status is OutboxStatus.SENDING
    assert claimed.handover is None
    async with store.transaction() as tx:
        assert not await tx.outbox.confirm_handover(queued.id, "a", at(12))
        assert not await tx.outbox.hand_over(queued.id, token="b", lease_until=at(30), again=True)


async def test_settling_records_only_expired_hand_overs_leased_late_enough(store: Store) -> None:
    party = await make_party(store)
    old = await enqueue(store, party, "old", due=60)
    recent = await enqueue(store, party, "recent", due=60)
    live = await enqueue(store, party, "live", due=60)
    no_retry = await enqueue(store, party, "no retry", due=60)  # its caller cannot retry
    async with store.transaction() as tx:
        assert await tx.outbox.hand_over(old.id, token="r-old", lease_until=at(5), again=False)
        assert await tx.outbox.hand_over(recent.id, token="r-new", lease_until=at(8), again=False)
        assert await tx.outbox.hand_over(no_retry.id, token="n-new", lease_until=at(8), again=False)
        assert await tx.outbox.hand_over(live.id, token="r-live", lease_until=at(20), again=False)
        assert await tx.outbox.settle_handovers(at(10), leased_from=at(6)) == 1
    assert (await item(store, recent.message_id)).status is OutboxStatus.DELIVERED
    assert (await item(store, live.message_id)).status is OutboxStatus.HANDED_OVER
    claimed = {c.id for c in await claim(store, 10)}
    assert claimed == {old.id, no_retry.id}, "sent, not settled"
    async with store.transaction() as tx:
        history = await tx.messages.history(party.conversation.id, 10)
    assert {m.text: m.status for m in history}["recent"] == "delivered"


async def test_an_item_enqueued_as_handed_over_is_held_like_a_claimed_one(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        message = await store_outbound(tx, party, "reply")
        queued = await tx.outbox.enqueue(
            tenant_id=party.tenant.id,
            channel_id=party.channel.id,
            contact_id=party.contact.id,
            message_id=message.id,
            text="reply",
            not_before=at(60),
            now=T0,
            handover=HandoverLease("a", at(10)),
        )
    assert (queued.status, queued.handover) == (OutboxStatus.HANDED_OVER, "a")
    stored = await item(store, message.id)
    assert (stored.status, stored.handover) == (OutboxStatus.HANDED_OVER, "a")
    assert await claim(store, 5) == [], "an unexpired hand-over keeps the worker away"
    async with store.transaction() as tx:
        assert not await tx.outbox.hand_over(queued.id, token="b", lease_until=at(9), again=False)
        assert await tx.outbox.confirm_handover(queued.id, "a", at(2))
    assert (await item(store, message.id)).status is OutboxStatus.DELIVERED


async def test_an_item_enqueued_as_handed_over_is_the_workers_once_its_lease_ran_out(
    store: Store,
) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        message = await store_outbound(tx, party, "reply")
        queued = await tx.outbox.enqueue(
            tenant_id=party.tenant.id,
            channel_id=party.channel.id,
            contact_id=party.contact.id,
            message_id=message.id,
            text="reply",
            not_before=at(60),
            now=T0,
            handover=HandoverLease("a", at(10)),
        )
    assert [claimed.id for claimed in await claim(store, 11)] == [queued.id]
