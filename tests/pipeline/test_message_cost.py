"""What one WeChat Official Account text message costs the database (issue 15).

A contract on the storage layer's work per message, counted at the driver
(:mod:`tests.support.statements`): the push goes through the real callback —
signature, decryption, nonce, pipeline, passive reply, confirmation — and
every statement the driver runs for it is counted, transaction control and
pool pings included. Adding a statement to the path fails this test: make
the case for it and raise the bound, or fold it into one that is there.

The confirmation of the passive reply is group-committed
(:mod:`kindbot.pipeline.handover.settlements`): the response only queues it.
What is counted: the writer is open but its task is not running, and the
count ends after :meth:`~kindbot.pipeline.handover.settlements.SettlementWriter.flush`
committed what the pushes queued — so a lone message pays its confirmation's
whole transaction (what a lone message costs a server, whose writer commits it
at once), and messages that arrive together share one (what a server's writer
does with every confirmation queued while it was committing the previous batch).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine.default import CacheStats
from tests.support.clock import FakeClock
from tests.support.statements import StatementLog, traced
from tests.support.tenants import apply_approved

from kindbot.bootstrap import Container
from kindbot.testing.wechat_callbacks import WeChatServerClient
from kindbot.web.app import build_app

APP_ID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "kindbottoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
GH = "gh_0123456789ab"
CHANNEL = "costshop.oa"

KNOWN_CONTACT_STATEMENTS = {"sqlite": 15, "postgres": 15}
"""Statements for a text message from a contact the account has seen before: 9 that do
the work and the BEGIN and COMMIT of the three writing transactions (storing the message,
its outcome, the passive reply's confirmation); no pool pings. Storing: the nonce, the
conversation's ``UPDATE … RETURNING`` — which also returns the contact, the tenant's
revision (checking the process's cache, ``pipeline/tenant_cache.py``), the bot's recent
texts and the flow state (``storage/message_path.py``) — and the message. The outcome: the
message's ``processed`` ``UPDATE … RETURNING`` — also returning the conversation's state,
an open satisfaction question and the guard's counts —, the reply, its outbox row and the
audit entries pending in one INSERT (the audit sequencer chains them). Issue 15 started
from 35 on SQLite and 46 on PostgreSQL (27 and 26 doing the work); 29 and 27 before the
cache and the sequencer; 21 before the reads were folded."""
NEW_CONTACT_STATEMENTS = {"sqlite": 18, "postgres": 18}
"""Statements for the first message of a contact: the conversation's ``UPDATE`` finds
nothing, the contact and the conversation are inserted (``ON CONFLICT DO NOTHING``), and
the ``UPDATE`` runs again."""
WRITE_TRANSACTIONS = 3
"""Transactions that write, for either message: storing, the outcome, the confirmation."""
CONFIRMATION_STATEMENTS = 4
"""The confirmation's transaction, on either backend: ``BEGIN``, the outbox rows ``UPDATE …
RETURNING``, their messages' ``UPDATE``, ``COMMIT`` — once per batch, however many messages."""
TOGETHER = 8
"""Messages from known contacts that arrive together (one batch of confirmations)."""


@dataclass
class Account:
    container: Container
    clock: FakeClock
    wechat: WeChatServerClient
    log: StatementLog

    async def text(self, openid: str, text: str, msg_id: str) -> str | None:
        """Push a text message; the passive reply's content."""
        now = int(self.clock.now().timestamp())
        reply = await self.wechat.push(self.wechat.text_xml(openid, text, msg_id, now), now)
        assert reply.status == 200
        return reply.content

    async def counted(self, *pushes: tuple[str, str, str]) -> StatementLog:
        """Push text messages together (openid, text, msg id), recording the statements
        they cost until their confirmations are committed; the log."""
        self.log.clear()
        self.log.active = True
        try:
            replies = await asyncio.gather(*(self.text(*push) for push in pushes))
            assert None not in replies  # every one a passive reply
            await self.container.settlements.flush()
        finally:
            self.log.active = False
        # The moderation lexicon's once-a-second check (a background task of the
        # process, pipeline/admit/screening_source.py) is not a message's cost.
        self.log.drop_transactions_on("moderation_generations")
        return self.log


def bundle(tmp_path: Path) -> Path:
    (tmp_path / "faq.csv").write_text("question,answer\n运费怎么算,满99元包邮\n", encoding="utf-8")
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "tenant: {slug: costshop, name: Cost Shop, industry: retail}\n"
        "channels:\n"
        f"  - {{id: oa, type: wechat_oa, app_id: {APP_ID}, app_secret: {SECRET},"
        f" token: {TOKEN}, encoding_aes_key: {AES_KEY}, mode: safe,"
        " api_base: 'http://127.0.0.1:9'}\n"
        "knowledge: [{file: faq.csv}]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def account(container: Container, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Account]:
    await apply_approved(container, bundle(tmp_path), clock.now())
    transport = httpx.ASGITransport(app=build_app(container))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://kindbot") as http,
        traced(container.store) as log,
    ):
        wechat = WeChatServerClient(
            http,
            f"/channels/{CHANNEL}/callback",
            token=TOKEN,
            app_id=APP_ID,
            gh_id=GH,
            mode="safe",
            encoding_aes_key=AES_KEY,
        )
        container.settlements.open()  # queued; committed by ``counted``'s flush
        opened = Account(container, clock, wechat, log)
        # Warm up: caches, the pool's connections (a fresh one is not pinged), the KB index
        # (its first build may outlast the reply budget: then the answer is ``success``).
        for msg_id in ("1", "2", "3"):
            if await opened.text("warm-up", "运费怎么算", msg_id) is not None:
                break
        yield opened


async def test_a_known_contacts_text_message_costs_a_bounded_number_of_statements(
    account: Account, container_backend: str
) -> None:
    new = await account.counted(("openid-1", "运费怎么算", "12"))
    new_count, new_writes = new.count, len(new.write_transactions())
    print("new contact: " + new.summary() + "\n" + new.render())
    known = await account.counted(("openid-1", "运费怎么算?", "13"))
    print("known contact: " + known.summary() + "\n" + known.render())

    assert new_count <= NEW_CONTACT_STATEMENTS[container_backend], new.render()
    assert new_writes <= WRITE_TRANSACTIONS, new.render()
    assert known.count <= KNOWN_CONTACT_STATEMENTS[container_backend], known.render()
    assert len(known.write_transactions()) <= WRITE_TRANSACTIONS, known.render()


async def test_messages_arriving_together_share_one_confirmation_transaction(
    account: Account, container_backend: str
) -> None:
    openids = [f"openid-{n}" for n in range(TOGETHER)]
    # Known contacts, and as many pooled connections as the pushes below use.
    await account.counted(*((o, "运费怎么算", f"2{n}") for n, o in enumerate(openids)))
    together = await account.counted(*((o, "运费怎么算?", f"3{n}") for n, o in enumerate(openids)))
    print(f"{TOGETHER} known contacts together: " + together.summary())

    alone = KNOWN_CONTACT_STATEMENTS[container_backend] - CONFIRMATION_STATEMENTS
    assert together.count <= TOGETHER * alone + CONFIRMATION_STATEMENTS, together.render()
    # Each message's own two (storing, outcome), and one confirmation for all of them.
    assert len(together.write_transactions()) == 2 * TOGETHER + 1, together.render()


async def test_every_statement_of_the_path_is_compiled_once(
    account: Account, container_backend: str
) -> None:
    """Issue 15: after the first message of each kind, none of the path's statements is
    compiled again — each one comes from SQLAlchemy's compiled cache (a statement
    without a cache key, such as ``insert(…).values(rows)``, costs a full compilation
    on every message)."""
    await account.counted(("openid-a", "运费怎么算", "40"))  # a new contact's statements
    engine = account.container.store.transaction_engine
    compiled: list[tuple[CacheStats, str]] = []

    def after_cursor_execute(_conn: Any, _cursor: Any, sql: str, *args: Any) -> None:
        context = args[1]
        if context.compiled is not None:  # not a BEGIN sent as text
            compiled.append((context.cache_hit, sql.split("(", 1)[0]))

    event.listen(engine, "after_cursor_execute", after_cursor_execute)
    try:
        await account.counted(("openid-b", "运费怎么算", "41"))
        await account.counted(("openid-b", "运费怎么算?", "42"))
    finally:
        event.remove(engine, "after_cursor_execute", after_cursor_execute)
    assert len(compiled) >= 12
    assert [sql for hit, sql in compiled if hit is not CacheStats.CACHE_HIT] == []
