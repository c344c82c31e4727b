"""The composition root: the one place that builds and wires kindbot's parts.

Used by the web app, every CLI command and the tests. No module creates
process-wide singletons; everything stateful (database engine, caches, HTTP
client, background tasks) belongs to a :class:`Container` and is closed by it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from kindbot.campaigns.broadcasts import Broadcasts
from kindbot.campaigns.delivery import CampaignDelivery
from kindbot.campaigns.journeys import Journeys
from kindbot.campaigns.planner import Planner
from kindbot.campaigns.proactive import ProactiveSender, deferred_loop
from kindbot.campaigns.service import Campaigns
from kindbot.channels.registry import AdapterDeps, build_adapters
from kindbot.channels.wecom.adapter import WeComAdapter
from kindbot.channels.wecom.api import KIND as WECOM
from kindbot.core.egress import AddressPolicy, PinnedTransport
from kindbot.core.errors import KindbotError
from kindbot.core.ports.seams import ChannelAdapter, Clock, SendCounters, SenderLocks
from kindbot.dialogue.dense import TextEncoder
from kindbot.dialogue.learned import MODEL_WARNINGS
from kindbot.inbox.desk import Inbox
from kindbot.ops.admin_token import load_or_create_admin_token
from kindbot.ops.segments import segment_checker, segment_resolver
from kindbot.pipeline.admit.admission import Admission
from kindbot.pipeline.admit.screening_source import ModerationScreeners
from kindbot.pipeline.audit_sequencer import AuditSequencer
from kindbot.pipeline.decide.embeddings import open_encoder
from kindbot.pipeline.decide.flows import FlowRunner
from kindbot.pipeline.decide.generative import GenerativeAnswers
from kindbot.pipeline.decide.handlers import HandlerModules
from kindbot.pipeline.decide.knowledge import KnowledgeCache
from kindbot.pipeline.decide.multilingual import MultilingualEncoder
from kindbot.pipeline.decide.sentence_batches import SentenceBatcher
from kindbot.pipeline.deliver.outbox import OutboxWorker
from kindbot.pipeline.deliver.tokens import AccessTokens
from kindbot.pipeline.directory import ChannelDirectory
from kindbot.pipeline.handover.settlements import SettlementWriter
from kindbot.pipeline.live.bus import InboxBus
from kindbot.pipeline.live.relay import RedisInboxRelay
from kindbot.pipeline.live.visitors import VisitorHub
from kindbot.pipeline.receive.feed import Pipeline
from kindbot.pipeline.receive.rate_limits import RateLimiter
from kindbot.pipeline.receive.sender_locks import LocalSenderLocks, RedisSenderLocks
from kindbot.pipeline.receive.wecom_pulls import WeComService
from kindbot.pipeline.recovery import recovery_loop
from kindbot.pipeline.supervisor import TaskSupervisor
from kindbot.pipeline.tenant_cache import TenantCache
from kindbot.settings import Settings
from kindbot.storage import migrate
from kindbot.storage.counters import open_counters
from kindbot.storage.engine import PoolLimits, is_sqlite, sqlite_url
from kindbot.storage.sealing import SecretBox, load_or_create_key
from kindbot.storage.sql_store import SqlStore

OUTGOING_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class SystemClock:
    """The real clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SchemaOutOfDateError(KindbotError):
    """The database is not at the migration head and will not be migrated implicitly."""

    code = "schema_out_of_date"


@dataclass
class Container:
    """Every long-lived part of a running kindbot, wired together."""

    settings: Settings
    database_url: str
    store: SqlStore
    clock: Clock
    box: SecretBox
    directory: ChannelDirectory
    knowledge: KnowledgeCache
    pipeline: Pipeline
    admission: Admission
    screeners: ModerationScreeners
    counters: SendCounters
    proactive: ProactiveSender
    planner: Planner
    broadcasts: Broadcasts
    journeys: Journeys
    campaigns: Campaigns
    """Campaigns with a holdout: create, approve, cancel, report (its ``segments`` resolver
    is set here once segments exist)."""
    campaign_delivery: CampaignDelivery
    """Starts and sends campaigns (loop: :meth:`start_workers`)."""
    outbox_worker: OutboxWorker
    supervisor: TaskSupervisor
    hub: VisitorHub
    inbox_bus: InboxBus
    """Live agent-inbox events of this process (``/inbox/events``)."""
    inbox_relay: RedisInboxRelay | None
    """With Redis: carries inbox events between processes (loops: :meth:`start_relay`)."""
    inbox: Inbox
    http: httpx.AsyncClient
    wecom: WeComService
    admin_token: str
    """The platform admin's API token (``KINDBOT_ADMIN_TOKEN`` or the data dir's file)."""
    rate_limiter: RateLimiter
    """The public endpoints' rate limits (counters in Redis when configured)."""
    senders: SenderLocks
    """One sender's messages one at a time (across processes with Redis)."""
    settlements: SettlementWriter
    """Confirms and gives back callbacks' hand-overs in batches (:meth:`start_settlements`)."""
    audit_sequencer: AuditSequencer
    """Chains pending audit entries (loop: :meth:`start_sequencer`; drained by :meth:`aclose`)."""
    sentences: SentenceBatcher | None = None
    """Encodes the questions being searched in shared model calls (None: words only)."""
    seal_on_close: bool = False
    """Whether :meth:`aclose` seals what is pending (set once the schema is known current)."""

    async def warm_up(self) -> None:
        """Load what every first message needs now (in worker threads): the sentence
        model (when there is one) and the moderation lexicon's automaton, so a new
        server's first answer does not wait for them (~1 s). ``kindbot serve``
        calls it at start-up, before accepting requests."""
        encoder = self.knowledge.encoder
        if encoder is not None:
            await asyncio.to_thread(encoder.encode, ["warm-up"])
        await self.screeners.current()

    def start_workers(self) -> None:
        """Run the outbox worker, the recovery loop, deferred sends, journeys and campaign
        delivery as owned background tasks."""
        self.supervisor.start("outbox", self.outbox_worker.run)
        self.supervisor.start(
            "recovery",
            lambda: recovery_loop(
                self.store,
                self.clock,
                self.pipeline,
                after=timedelta(seconds=self.settings.recovery_after_s),
            ),
        )
        self.supervisor.start(
            "deferred", lambda: deferred_loop(self.store, self.clock, self.proactive)
        )
        self.supervisor.start("journeys", self.journeys.run)
        self.supervisor.start("campaigns", self.campaign_delivery.run)

    def start_sequencer(self) -> None:
        """Chain pending audit entries every ``SEAL_INTERVAL_S`` (every process that runs
        background jobs: servers and workers)."""
        self.supervisor.start("audit-sequencer", self.audit_sequencer.run)

    def start_relay(self) -> None:
        """With Redis, carry inbox events to and from the other processes (every
        process that serves or works, so an agent's live view sees them all)."""
        if self.inbox_relay is not None:
            self.supervisor.start("inbox-publish", self.inbox_relay.publish_loop)
            self.supervisor.start("inbox-subscribe", self.inbox_relay.subscribe_loop)

    def start_settlements(self) -> None:
        """Group-commit the hand-overs' confirmations (an owned task; drained by :meth:`aclose`)."""
        self.settlements.open()
        self.supervisor.start("settlements", self.settlements.run)

    async def aclose(self) -> None:
        """Drain background tasks, seal the audit entries left pending, then close the
        HTTP client and the database."""
        await self.supervisor.aclose()
        await self.screeners.aclose()
        await self.settlements.aclose()  # what the cancelled writer had not committed
        if self.seal_on_close:
            try:
                await self.audit_sequencer.drain()
            except Exception:  # the database went away: the next start or reader seals them
                log.exception("could not seal the pending audit entries at shutdown")
        if self.inbox_relay is not None:
            await self.inbox_relay.aclose()
        await self.http.aclose()
        await self.rate_limiter.aclose()
        await self.senders.aclose()
        await self.counters.close()
        await self.store.close()


async def ensure_schema(container: Container, *, auto_migrate: bool) -> None:
    """Migrate embedded SQLite implicitly; elsewhere insist on ``kindbot migrate``."""
    if auto_migrate or is_sqlite(container.database_url):
        await migrate.upgrade(container.store.engine)
        return
    current = await migrate.current_revision(container.store.engine)
    if current != migrate.head_revision():
        raise SchemaOutOfDateError(
            f"database is at revision {current or 'empty'}, this code needs "
            f"{migrate.head_revision()}: run `kindbot migrate` first"
        )


def one_blas_thread() -> None:
    """Run NumPy's BLAS on one thread in this process. The server parallelises by
    messages (event loop + worker threads), and on a small machine a BLAS call
    that spreads over every core while other work runs waits on them: a
    knowledge-base score of 0.4 ms took 10 ms with two threads under load
    (``bench/README.md``, "sentence encoder")."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def quiet_fitting_warnings() -> None:
    """Filter, for the whole process, the warnings a knowledge-base fit raises that
    say nothing to an operator (``dialogue.learned.MODEL_WARNINGS``). Once, here:
    fits run in worker threads, where ``warnings.catch_warnings`` is not safe."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    categories: dict[str, type[Warning]] = {
        "sklearn.exceptions.ConvergenceWarning": ConvergenceWarning,
        "UserWarning": UserWarning,
    }
    for message, category in MODEL_WARNINGS:
        warnings.filterwarnings("ignore", message, categories[category])


def sentence_encoder(settings: Settings) -> TextEncoder | None:
    """The knowledge base's sentence encoder: ``KINDBOT_EMBEDDING_MODEL`` when set,
    else the built-in multilingual one unless ``KINDBOT_SENTENCE_ENCODER=off``.
    Nothing is loaded yet (the multilingual model loads on first use)."""
    if settings.embedding_model:
        return open_encoder(settings.embedding_model)
    if settings.sentence_encoder == "off":
        return None
    return MultilingualEncoder()


def wecom_adapter(adapters: Mapping[str, ChannelAdapter]) -> WeComAdapter:
    """The WeCom channel's adapter (its pulls and welcomes go through it)."""
    adapter = adapters[WECOM]
    if not isinstance(adapter, WeComAdapter):
        raise TypeError(f"the {WECOM} adapter is a {type(adapter).__name__}")
    return adapter


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Wire a container (no I/O yet besides reading or creating the server key)."""
    one_blas_thread()
    quiet_fitting_warnings()
    database_url = settings.database_url or sqlite_url(settings.data_dir)
    if is_sqlite(database_url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore.for_url(
        database_url, PoolLimits(settings.database_pool_size, settings.database_pool_timeout_s)
    )
    clock = clock or SystemClock()
    box = SecretBox(load_or_create_key(settings.secret_key, settings.data_dir))
    # What this process remembers of its tenants (channels, flows, KB version),
    # checked against the tenant's revision on every message (pipeline/tenant_cache.py).
    tenant_cache = TenantCache()
    directory = ChannelDirectory(store, box, tenant_cache)
    encoder = sentence_encoder(settings)
    supervisor = TaskSupervisor()
    knowledge = KnowledgeCache(store, encoder=encoder, supervisor=supervisor)
    sentences = SentenceBatcher(encoder, supervisor) if encoder is not None else None
    outbox_ready = asyncio.Event()
    hub = VisitorHub()
    inbox_bus = InboxBus()
    relay = RedisInboxRelay.from_url(settings.redis_url, inbox_bus) if settings.redis_url else None
    senders: SenderLocks = (
        RedisSenderLocks.from_url(settings.redis_url) if settings.redis_url else LocalSenderLocks()
    )
    inbox_bus.relay = relay
    # Every call to a tenant-configured URL goes through this client: the address policy.
    http = httpx.AsyncClient(
        timeout=OUTGOING_TIMEOUT_S,
        follow_redirects=False,
        transport=PinnedTransport(AddressPolicy(settings.allow_private_endpoints)),
    )
    adapters = build_adapters(
        AdapterDeps(http=http, tokens=AccessTokens(store, clock), clock=clock, visitors=hub)
    )
    counters = open_counters(store, settings.redis_url)
    screeners = ModerationScreeners(store)
    admission = Admission(clock=clock, counters=counters, screeners=screeners)
    pipeline = Pipeline(
        store=store,
        clock=clock,
        directory=directory,
        knowledge=knowledge,
        outbox_ready=outbox_ready,
        admission=admission,
        handlers=HandlerModules(),
        inbox=inbox_bus,
        flows=FlowRunner(box=box, http=http, clock=clock, cache=tenant_cache),
        generative=GenerativeAnswers(http=http, box=box, store=store),
        sentences=sentences,
        senders=senders,
    )
    proactive = ProactiveSender(
        store=store,
        clock=clock,
        directory=directory,
        admission=admission,
        counters=counters,
        outbox_ready=outbox_ready,
    )
    planner = Planner(
        store=store, clock=clock, directory=directory, counters=counters, admission=admission
    )
    broadcasts = Broadcasts(store=store, clock=clock, planner=planner, sender=proactive)
    campaigns = Campaigns(
        store=store, clock=clock, planner=planner, segments=segment_resolver(store, clock)
    )
    delivery = CampaignDelivery(store=store, clock=clock, planner=planner, sender=proactive)
    worker = OutboxWorker(
        store=store, clock=clock, directory=directory, adapters=adapters, ready=outbox_ready
    )
    return Container(
        settings=settings,
        database_url=database_url,
        store=store,
        clock=clock,
        box=box,
        directory=directory,
        knowledge=knowledge,
        pipeline=pipeline,
        admission=admission,
        screeners=screeners,
        counters=counters,
        proactive=proactive,
        planner=planner,
        broadcasts=broadcasts,
        journeys=Journeys(
            store=store,
            clock=clock,
            sender=proactive,
            segment_check=segment_checker(store, clock),
        ),
        campaigns=campaigns,
        campaign_delivery=delivery,
        outbox_worker=worker,
        supervisor=supervisor,
        hub=hub,
        inbox_bus=inbox_bus,
        inbox_relay=relay,
        inbox=Inbox(
            store=store,
            clock=clock,
            directory=directory,
            admission=admission,
            bus=inbox_bus,
            outbox_ready=outbox_ready,
        ),
        http=http,
        wecom=WeComService(
            store=store, clock=clock, pipeline=pipeline, adapter=wecom_adapter(adapters)
        ),
        admin_token=load_or_create_admin_token(settings.admin_token, settings.data_dir),
        rate_limiter=RateLimiter.from_settings(settings),
        senders=senders,
        settlements=SettlementWriter(store, clock, outbox_ready),
        audit_sequencer=AuditSequencer(store),
        sentences=sentences,
    )


@asynccontextmanager
async def open_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    auto_migrate: bool = False,
    workers: bool = False,
    live: bool | None = None,
) -> AsyncIterator[Container]:
    """Build a container, bring the schema up to date, optionally start workers; close on exit.

    ``live``: start the inbox relay and the hand-overs' settlement writer
    (default: with the workers); a server always does, whether or not it runs
    the workers. Without it, a hand-over is settled inline (its own transaction).
    """
    container = build_container(settings, clock=clock)
    try:
        await ensure_schema(container, auto_migrate=auto_migrate)
        container.seal_on_close = True
        if workers:
            container.start_workers()
        if workers if live is None else live:
            container.start_relay()
            container.start_settlements()
        if workers or live:
            container.start_sequencer()
        yield container
    finally:
        await container.aclose()
