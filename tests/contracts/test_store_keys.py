"""Keys built from outside identifiers are stored whole (as digests), never cut.

Issue 13, defect 6: callback nonces and their fingerprints were cut to their
column's length and then compared uncut, so a long key was "replayed" on its
first use; idempotency keys over 200 characters could not be stored at all on
PostgreSQL.
"""

from __future__ import annotations

from kindbot.core.ports.seams import Store
from tests.contracts.builders import T0, make_party, store_inbound


async def test_long_idempotency_keys_are_compared_whole(store: Store) -> None:
    party = await make_party(store)
    stem = "k" * 999
    async with store.transaction() as tx:
        a, a_new = await store_inbound(tx, party, stem + "a")
        b, b_new = await store_inbound(tx, party, stem + "b")
        again, again_new = await store_inbound(tx, party, stem + "a")
        found = await tx.messages.find_inbound(party.channel.id, stem + "b")

    assert (a_new, b_new, again_new) == (True, True, False)
    assert again.id == a.id != b.id
    assert found is not None
    assert found.id == b.id


async def test_long_fingerprints_and_nonces_are_compared_whole(store: Store) -> None:
    party = await make_party(store)
    fingerprint = "evt:" + "o" * 300
    nonce = "n" * 64

    async def remember(nonce: str, fingerprint: str) -> str:
        async with store.transaction() as tx:
            return await tx.nonces.remember(
                tenant_id=party.tenant.id,
                channel_id=party.channel.id,
                nonce=nonce,
                timestamp="1764064800",
                fingerprint=fingerprint,
                now=T0,
            )

    assert await remember(nonce, fingerprint) == fingerprint
    assert await remember(nonce, fingerprint) == fingerprint
    assert await remember(nonce, fingerprint + "x") != fingerprint + "x"
    assert await remember(nonce + "-other", fingerprint + "x") == fingerprint + "x"
