"""WeCom work that outlives its callback: 微信客服 pulls and new-customer welcomes.

The callback route (``web/wecom.py``) answers at once and spawns these as
owned jobs on the container's :class:`~kindbot.pipeline.supervisor.TaskSupervisor`.

**Pulls** (:meth:`WeComService.pull_kf`): ``kf_msg_or_event`` only says that
something arrived. The pull reads the cursor stored for (channel, open_kfid),
calls ``kf/sync_msg`` page by page while ``has_more``, feeds every customer
message to the pipeline (``sync_grace=None``: the outbox worker sends the
replies through ``kf/send_msg``) and stores the page's ``next_cursor`` only
after its messages were fed. A crash therefore re-pulls at most one page,
which the pipeline deduplicates by ``kf:{msgid}``. Within a process one pull
per (channel, open_kfid) runs at a time, and callbacks that arrive during a
pull coalesce into at most one more pull.

**Welcomes** (:meth:`WeComService.welcome`): the ``add_external_contact``
event carries a WelcomeCode valid once, within 20 s. The event is fed like any
other; the welcome text is then proposed as its one reply through
:meth:`Pipeline.enqueue_guarded` (guard decision and audit, like every reply),
held for :data:`WELCOME_HOLD`, and handed over here through the channel's
adapter (:meth:`kindbot.channels.wecom.adapter.WeComAdapter.send_welcome`);
the outcome is recorded on the outbox row. If the process dies before the
hand-over, the outbox worker takes the row after the hold and the adapter
tries 微信客服 (usually ``FAILED``: no open window).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from kindbot.channels.registry import window_policy
from kindbot.channels.wecom.adapter import WeComAdapter
from kindbot.channels.wecom.kf import MAX_SYNC_LIMIT, kf_to_inbound_event
from kindbot.channels.wecom.messages import ADD_EXTERNAL_CONTACT, ExternalContactEvent
from kindbot.core.events import (
    DeliveryOutcome,
    DeliveryStatus,
    InboundEvent,
    OutboundReply,
    ReplyOrigin,
    SentReply,
)
from kindbot.core.ports.seams import Clock, Store
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.pipeline.receive.feed import Pipeline
from kindbot.pipeline.receive.turn import AuditBatch, Turn

log = logging.getLogger(__name__)

MAX_PAGES_PER_PULL = 100
WELCOME_TTL = timedelta(seconds=20)
WELCOME_HOLD = timedelta(seconds=60)
"""How long a proposed welcome waits for this job before the outbox worker may take it."""


def welcome_code_to_use(
    msg: ExternalContactEvent, *, welcome: str | None, now: datetime
) -> str | None:
    """The WelcomeCode to send ``welcome`` with, or ``None`` when no welcome is due.

    Due when the channel has a welcome text, the event is ``add_external_contact``
    with a WelcomeCode, and the event is at most 20 s old (the code's validity).
    """
    if not welcome or msg.change_type != ADD_EXTERNAL_CONTACT or not msg.welcome_code:
        return None
    if now.timestamp() - msg.create_time > WELCOME_TTL.total_seconds():
        return None
    return msg.welcome_code


@dataclass(slots=True)
class _PullState:
    """Coalescing of pulls for one (channel, open_kfid): tickets requested and covered."""

    lock: asyncio.Lock
    requested: int = 0
    covered: int = 0


class WeComService:
    """Pulls and welcomes for every WeCom channel; one per container (it holds the pull locks).

    ``page_limit`` is the ``limit`` of each ``kf/sync_msg`` call (1..1000).
    Every platform call goes through the WeCom channel's ``adapter``.
    """

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        pipeline: Pipeline,
        adapter: WeComAdapter,
        page_limit: int = MAX_SYNC_LIMIT,
    ) -> None:
        self.page_limit = page_limit
        self._store = store
        self._clock = clock
        self._pipeline = pipeline
        self._adapter = adapter
        self._pulls: dict[tuple[str, str], _PullState] = {}

    async def pull_kf(
        self, resolved: ResolvedChannel, open_kfid: str, callback_token: str | None
    ) -> int:
        """Pull and feed everything new for (channel, ``open_kfid``); returns how many were new.

        A call waits for a running pull; it pulls again only if no pull started
        after it was requested (so N concurrent callbacks cause at most two
        pulls). Raises the API's errors (a failed pull leaves the cursor where
        the last fed page put it).
        """
        state = self._pulls.setdefault((resolved.channel.id, open_kfid), _PullState(asyncio.Lock()))
        state.requested += 1
        ticket = state.requested
        async with state.lock:
            if state.covered >= ticket:
                return 0
            starting = state.requested
            fed = await self._drain(resolved, open_kfid, callback_token)
            state.covered = starting
            return fed

    async def _drain(
        self, resolved: ResolvedChannel, open_kfid: str, callback_token: str | None
    ) -> int:
        channel = resolved.channel
        async with self._store.transaction(readonly=True) as tx:
            cursor = await tx.kf_cursors.get(channel.id, open_kfid)
        fed = 0
        for _ in range(MAX_PAGES_PER_PULL):
            page = await self._adapter.sync_kf(
                tenant_id=resolved.tenant.id,
                channel_config=resolved.config,
                cursor=cursor,
                token=callback_token,
                open_kfid=open_kfid,
                limit=self.page_limit,
            )
            if page.skipped:
                log.warning(
                    "kf/sync_msg for %s: %d malformed items skipped", open_kfid, page.skipped
                )
            for message in page.messages:
                if message.open_kfid and message.open_kfid != open_kfid:
                    continue
                event = kf_to_inbound_event(
                    message, channel_public_id=channel.public_id, received_at=self._clock.now()
                )
                if event is None:
                    continue
                result = await self._pipeline.feed(event, sync_grace=None, resolved=resolved)
                fed += 0 if result.duplicate else 1
            if page.next_cursor and page.next_cursor != cursor:
                async with self._store.transaction() as tx:
                    await tx.kf_cursors.save(
                        tenant_id=resolved.tenant.id,
                        channel_id=channel.id,
                        open_kfid=open_kfid,
                        cursor=page.next_cursor,
                        now=self._clock.now(),
                    )
                cursor = page.next_cursor
            if not page.has_more:
                break
        return fed

    async def welcome(
        self, resolved: ResolvedChannel, event: InboundEvent, welcome_code: str, text: str
    ) -> DeliveryOutcome | None:
        """Feed the ``add_external_contact`` ``event`` and send ``text`` once with ``welcome_code``.

        Returns the hand-over's outcome (also recorded on the outbox row), or
        ``None`` when nothing was sent: the welcome was proposed before (a
        retried callback) or the guard refused it.
        """
        reply = await self._propose_welcome(resolved, event, text)
        if reply is None:
            return None
        outcome = await self._adapter.send_welcome(
            tenant_id=resolved.tenant.id,
            channel_config=resolved.config,
            welcome_code=welcome_code,
            text=reply.text,
        )
        now = self._clock.now()
        async with self._store.transaction() as tx:
            if outcome.status is DeliveryStatus.DELIVERED:
                await tx.outbox.mark_delivered(reply.outbox_id, now)
            else:
                await tx.outbox.mark_failed(reply.outbox_id, f"welcome: {outcome.detail}")
        return outcome

    async def _propose_welcome(
        self, resolved: ResolvedChannel, event: InboundEvent, text: str
    ) -> SentReply | None:
        """The welcome as the event's one guard-checked reply, held; None when not new."""
        stored = await self._pipeline.feed(event, sync_grace=WELCOME_HOLD, resolved=resolved)
        async with self._store.transaction() as tx:
            message = await tx.messages.lock_inbound(stored.inbound_message_id)
            if await tx.messages.replies_to(message.id):
                return None
            contact = await tx.contacts.get(message.contact_id)
            assert contact is not None
            window = window_policy(resolved.channel.kind, contact.external_id, resolved.config)
            turn = Turn(resolved.tenant, resolved.channel, contact, message.conversation_id, window)
            audit = AuditBatch(resolved.tenant.id)
            sent = await self._pipeline.enqueue_guarded(
                tx,
                turn,
                audit,
                (OutboundReply(text, ReplyOrigin.SYSTEM),),
                reply_to_id=message.id,
                sync_grace=WELCOME_HOLD,
            )
            await audit.flush(tx)
        return sent[0] if sent else None
